export * from '../kernel/clock';
