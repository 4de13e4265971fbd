import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const IdParamSchema = z.object({ id: z.uuid() });
/** `@Param() { id }: IdParamDto` validates a UUID path parameter. */
export class IdParamDto extends createZodDto(IdParamSchema) {}
