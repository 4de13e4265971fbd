import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from '../errors/problem';

export class ProblemDto extends createZodDto(ProblemSchema) {}

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `errors` names every bad field',
  401: 'Missing or invalid credentials',
  403: 'The caller\'s role is too low for this route',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Payload too large',
  415: 'The body is not UTF-8 JSON',
  422: 'Semantically invalid',
  500: 'Unexpected error; quote `errorId`',
  503: 'A dependency is unavailable',
};

/** Documents problem+json answers for the given statuses (500 is always added). */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  const all = [...new Set([...statuses, 500])].sort();
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...all.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}
