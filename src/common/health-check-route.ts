import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

/**
 * Marks a route that load balancers and orchestrators poll: the request limit does not
 * count it and its log line is at `debug`. The one place that decides which routes these are.
 */
export const HealthCheckRoute = () => RouteConfig({ healthCheck: true });

export function isHealthCheckRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { healthCheck?: boolean } | undefined)?.healthCheck === true;
}
