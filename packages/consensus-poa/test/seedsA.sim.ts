import { describe } from 'vitest';
import { simulateSeeds } from './simulatorSeeds.js';

describe('consensus simulator, first half', () => simulateSeeds(0, 250));
