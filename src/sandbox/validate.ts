/**
 * Validation of a `POST /recharge` body, in the order the checks are listed in our notes on the
 * API doc: body → operator → mobile number → amount → amount range → reference. Returns, never throws.
 */
import type { Operator } from '../api/types.js';
import { findOperator } from './operators.js';

export interface RechargeBody {
  operator: Operator;
  mobileNumber: string;
  amount: number;
  reference: string | null;
}

export type RechargeValidation =
  { ok: true; value: RechargeBody } | { ok: false; code: string; message: string };

const MOBILE_RE = /^01[3-9]\d{8}$/;
const REFERENCE_RE = /^[A-Za-z0-9_-]{1,64}$/;

function fail(code: string, message: string): RechargeValidation {
  return { ok: false, code, message };
}

export function validateRecharge(text: string, operators: readonly Operator[]): RechargeValidation {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fail('INVALID_REQUEST', 'The request body must be a JSON object');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('INVALID_REQUEST', 'The request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;

  const operator = findOperator(operators, b.operator_id);
  if (!operator) return fail('INVALID_OPERATOR', 'operator_id is missing or is not an available operator');

  if (typeof b.mobile_number !== 'string' || !MOBILE_RE.test(b.mobile_number)) {
    return fail(
      'INVALID_MOBILE_NUMBER',
      'mobile_number must be an 11-digit Bangladeshi number like 01712345678',
    );
  }

  if (typeof b.amount !== 'number' || !Number.isInteger(b.amount) || b.amount <= 0) {
    return fail('INVALID_AMOUNT', 'amount must be a positive whole number of BDT');
  }
  const min = Number(operator.min_amount);
  const max = Number(operator.max_amount);
  if (b.amount < min || b.amount > max) {
    return fail('AMOUNT_OUT_OF_RANGE', `amount must be between ${min} and ${max} BDT for ${operator.name}`);
  }

  let reference: string | null = null;
  if (b.reference !== undefined && b.reference !== null) {
    if (typeof b.reference !== 'string' || !REFERENCE_RE.test(b.reference)) {
      return fail('INVALID_REFERENCE', 'reference must be 1 to 64 letters, digits, "_" or "-"');
    }
    reference = b.reference;
  }

  return { ok: true, value: { operator, mobileNumber: b.mobile_number, amount: b.amount, reference } };
}
