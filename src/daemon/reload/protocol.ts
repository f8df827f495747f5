import type { CompileLimits } from '../../config/budget.js';
import type { SourcePosition } from '../../config/diagnostics.js';
import type { CompileOutcome } from '../parts.js';

/** Parent → compile child: one request, then the child exits. */
export interface CompileRequest {
  readonly type: 'compile';
  readonly file: string;
  readonly configId: string;
  readonly strict: boolean;
  readonly limits?: CompileLimits;
}

/** Compile child → parent: loaded, then where it is reading (a few times a second), then the outcome. */
export type CompileChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly at: SourcePosition }
  | { readonly type: 'result'; readonly outcome: CompileOutcome };
