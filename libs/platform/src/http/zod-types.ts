import { z } from 'zod';

/** An ISO-8601 time in a request, handed to handlers as a Date. */
export const isoDateTime = () =>
  z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be an ISO-8601 date-time' })
    .transform((v) => new Date(v))
    .meta({ format: 'date-time' });
