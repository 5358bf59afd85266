import { ValidationPipeOptions } from '@nestjs/common';

/** How every client input is validated, over HTTP (global pipe) and from the stream broker alike. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
  stopAtFirstError: false,
};
