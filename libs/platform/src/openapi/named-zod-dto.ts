import { createZodDto } from 'nestjs-zod';

/**
 * A DTO of a schema a class cannot extend (a union: "the entity, or the approval that holds it"),
 * with the name OpenAPI files it under. `createZodDto` alone names every such DTO `AugmentedZodDto`,
 * so two of them collide in the document and Nest warns at every start.
 */
export function namedZodDto<S extends Parameters<typeof createZodDto>[0]>(name: string, schema: S): ReturnType<typeof createZodDto<S>> {
  const dto = createZodDto(schema);
  Object.defineProperty(dto, 'name', { value: name });
  return dto;
}
