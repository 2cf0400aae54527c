import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/** The docs pages (/docs, /redoc) run from this origin alone. */
const DOCS_CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  // Served over plain HTTP behind a proxy that ends TLS, this would break the docs.
  upgradeInsecureRequests: null,
};

/** JSON is never rendered as a page: nothing may load, nothing may frame it. */
const API_CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: null,
  fontSrc: null,
  formAction: null,
  imgSrc: null,
  objectSrc: null,
  scriptSrc: null,
  scriptSrcAttr: null,
  styleSrc: null,
  upgradeInsecureRequests: null,
};

/**
 * helmet's headers for every answer, worked out once: they depend on nothing in the
 * request, so they are set from this object instead of running helmet per request.
 * Left out are the headers that only matter to old browsers rendering HTML
 * (X-XSS-Protection, X-Download-Options, X-DNS-Prefetch-Control,
 * X-Permitted-Cross-Domain-Policies, Origin-Agent-Cluster).
 */
export function securityHeaders(page: 'api' | 'docs'): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number) => {
      headers[name] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  } as unknown as ServerResponse;
  let failure: unknown;
  helmet({
    contentSecurityPolicy: { directives: page === 'docs' ? DOCS_CONTENT_SECURITY_POLICY : API_CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  })({} as IncomingMessage, response, (error?: unknown) => {
    failure = error;
  });
  if (failure !== undefined) {
    throw failure instanceof Error ? failure : new Error('helmet could not work out the security headers');
  }
  return headers;
}
