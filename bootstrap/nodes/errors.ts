// Why a node operation was refused. A refusal is a decision, not a failure of the API: the caller
// (a remediator, the upgrade engine) escalates on it rather than retrying.
import { ConflictError } from '../../core/errors.ts';

export type RefusalReason =
  /** The node is cordoned, but not by the Whistle actor that asks to uncordon it. */
  | 'cordoned-by-other'
  /** The operation would leave no Ready, schedulable control-plane node. */
  | 'last-control-plane';

export class NodeOperationRefused extends ConflictError {
  constructor(
    readonly reason: RefusalReason,
    readonly node: string,
    message: string,
  ) {
    super(message);
  }
}
