import { describe } from 'vitest';
import { simulateSeeds } from './simulatorSeeds.js';

describe('consensus simulator, second half', () => simulateSeeds(250, 500));
