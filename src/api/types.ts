/**
 * The Alsamiflexi Pro API v1 as documented (docs/api.md).
 * Every answer is parsed with these schemas; what an answer that does not fit means is
 * decided by the outcome table (outcome.ts), never by a crash deeper in the code. Status words
 * are read there too (`readStatusWord`, SPEC §5 additions).
 */
import { z } from 'zod';

export const DEFAULT_BASE_URL = 'https://pro.alsamiflexi.com/api/v1';

/** Numbers may arrive as JSON numbers or numeric strings ("50000.00"). */
const numeric = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

export const operatorSchema = z.object({
  id: z.union([z.number().int(), z.string().min(1)]),
  name: z.string().min(1),
  code: z.string().min(1),
  min_amount: numeric,
  max_amount: numeric,
});
export type Operator = z.infer<typeof operatorSchema>;

export const balanceSchema = z.object({
  balance: numeric,
  currency: z.string().default('BDT'),
});
export type Balance = z.infer<typeof balanceSchema>;

export const transactionStatusSchema = z.enum(['processing', 'completed', 'failed', 'pending']);
export type TransactionStatus = z.infer<typeof transactionStatusSchema>;

export const transactionSchema = z.object({
  transaction_id: z.union([z.string().min(1), z.number().transform(String)]),
  status: z.string().min(1),
  mobile_number: z.string().optional(),
  amount: numeric.optional(),
  operator: z.string().optional(),
  reference: z.string().nullable().optional(),
  created_at: z.string().nullable().optional(),
  completed_at: z.string().nullable().optional(),
  // not documented, but a failed transaction may say why
  error_code: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
});
export type Transaction = z.infer<typeof transactionSchema>;

export interface RechargeRequest {
  operator_id: number | string;
  mobile_number: string;
  amount: number;
  reference: string;
}

export const errorBodySchema = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string().default('') }),
});

const successBodies = new WeakMap<z.ZodType, z.ZodType>();

/**
 * `{ success: true, data: <data> }`, made once per `data` schema: zod compiles a schema on its
 * first parse, and a new one per answer cost more CPU than the rest of reading it (a profile of
 * a run: 8 % of the main thread, bench/README.md).
 */
export function successBody<T extends z.ZodType>(
  data: T,
): z.ZodObject<{ success: z.ZodLiteral<true>; data: T }> {
  let schema = successBodies.get(data);
  if (!schema) successBodies.set(data, (schema = z.object({ success: z.literal(true), data })));
  return schema as z.ZodObject<{ success: z.ZodLiteral<true>; data: T }>;
}

export const webhookPayloadSchema = z.object({
  event: z.string(),
  data: transactionSchema,
  timestamp: z.string(),
});
