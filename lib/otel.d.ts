/**
 * `clerk-m2m-native/otel`: OpenTelemetry spans from the package's diagnostics channels
 * (`clerk_m2m.verify`, with `clerk_m2m.http` children). Needs `@opentelemetry/api` (an optional
 * peer dependency) when `instrument()` is called.
 */

/** Anything with `getTracer` (an OpenTelemetry `TracerProvider`); structural, so these typings need no OpenTelemetry types. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): any
}

export interface OtelInstrumentationOptions {
  /** Default: the global provider registered with `@opentelemetry/api`. */
  tracerProvider?: TracerProviderLike
}

export interface OtelInstrumentation {
  /** Unsubscribes: no more spans. */
  disable(): void
}

/** Subscribes to the channels and makes spans until `disable()`. Throws `code: 'otel-api-missing'` without `@opentelemetry/api`. */
export declare function instrument(options?: OtelInstrumentationOptions): OtelInstrumentation

/** The instrumentation scope name of the spans: `clerk-m2m-native`. */
export declare const INSTRUMENTATION_NAME: 'clerk-m2m-native'
