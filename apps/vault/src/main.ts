import { runHosted } from '@waggle/service-kit';

import { service } from './service';

runHosted([service]);
