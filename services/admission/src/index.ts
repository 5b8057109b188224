export { createAdmission, type Admission, type AdmissionOverrides } from './admission.js';
export { AdmissionConsumer, type AdmissionOptions } from './admission-consumer.js';
export { createApp } from './app.js';
export { admissionConfigSchema, type AdmissionConfig } from './config.js';
export { registerDealGauges } from './deal-gauges.js';
export { createAdmissionMetrics, type AdmissionMetrics } from './metrics.js';
