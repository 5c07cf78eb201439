import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { kernelSuite } from './suites/kernels.ts';

kernelSuite('cpu', () => createCpuBackend());
