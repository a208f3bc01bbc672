import { join } from 'node:path';
import { describeReadmeExamples } from '../../../test-support/readmeExamples.ts';

describeReadmeExamples(join(import.meta.dirname, '..'));
