export * from './carts.js';
export * from './common.js';
export * from './ids.js';
export * from './orders.js';
