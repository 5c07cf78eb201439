import { createCpuBackend } from '../core/cpu/cpu_backend.ts';
import { autogradSuite } from './suites/autograd.ts';
import { layerSuite } from './suites/layers.ts';

autogradSuite('cpu', () => createCpuBackend());
layerSuite('cpu', () => createCpuBackend());
