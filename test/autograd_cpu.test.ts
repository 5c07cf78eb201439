import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { autogradSuite } from './suites/autograd.ts';

autogradSuite('cpu', () => createCpuBackend());
