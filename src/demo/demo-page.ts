import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';

export const DEMO_PAGE_PREFIX = '/demo';

/** Serves the demo page (plain HTML/CSS/JS from ./public) at /demo (redirects to /demo/). */
@Injectable()
export class DemoPage implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Queued, not awaited: awaiting would boot Fastify's plugins before Nest installs its
    // error handler and body parsers, and errors would bypass the global exception filter.
    void fastify.register(fastifyStatic, {
      root: join(__dirname, 'public'),
      prefix: DEMO_PAGE_PREFIX,
      redirect: true,
      dotfiles: 'ignore',
    });
  }
}
