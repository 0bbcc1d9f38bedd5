/** L0 invariants and the permission mask they check. */
export * from './invariants';
export * from './permission-mask';
