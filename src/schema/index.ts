import { builder } from './builder.js';
import './contact.js';
import './pending.js';
import './provider.js';
import './writes.js';
import './batch.js';

export const schema = builder.toSchema({ sortSchema: true });
