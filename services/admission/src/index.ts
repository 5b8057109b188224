export { AdmissionConsumer, type AdmissionOptions } from './admission-consumer.js';
export { createApp } from './app.js';
export { admissionConfigSchema } from './config.js';
export { installDealGauges } from './deal-gauges.js';
