export { installPages, type PagesOptions } from './install.js';
export { formatMoney, messages, negotiateLocale, type Lang, type Messages, type PageLocale } from './i18n.js';
