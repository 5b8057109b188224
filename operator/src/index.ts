export * from './api/v1alpha1/quickdeal.js';
export * from './local/apply-files.js';
