// The sending side: a webhook handler with a pre-created token from its environment, and a
// background worker that mints short-lived tokens with its machine secret key.
import { createTRPCClient, httpLink } from '@trpc/client'
import { createM2MTokenProvider, getM2MToken } from 'clerk-m2m-native/console'

/** A tRPC client whose Authorization header comes from `getAuthorization()` (null = no header). */
export function apiClient(url, getAuthorization) {
  return createTRPCClient({
    links: [
      httpLink({
        url,
        headers: async () => {
          const authorization = await getAuthorization()
          return authorization ? { authorization } : {}
        },
      }),
    ],
  })
}

/**
 * The webhook handler. Environment: CLERK_M2M_TOKEN_WEBHOOK (created once with
 * `npx clerk-m2m-native setup-tokens --service webhook`).
 */
export function webhookSender(apiUrl, { env = process.env } = {}) {
  const client = apiClient(apiUrl, () => `Bearer ${getM2MToken('webhook', { env })}`)
  return {
    deliver: (event) => client.deliverWebhook.mutate({ event }),
    reportJob: (jobId) => client.reportJob.mutate({ jobId }),
  }
}

/**
 * The background worker. Environment: CLERK_MACHINE_SECRET_KEY_WORKER and CLERK_API_URL;
 * it mints 5-minute tokens and refreshes them a minute before they expire.
 */
export function workerSender(apiUrl, { env = process.env, ttlSeconds = 300, refreshBeforeSeconds = 60 } = {}) {
  const provider = createM2MTokenProvider({ service: 'worker', env, ttlSeconds, refreshBeforeSeconds })
  const client = apiClient(apiUrl, () => provider.getAuthorizationHeader())
  return {
    provider,
    reportJob: (jobId) => client.reportJob.mutate({ jobId }),
    // Not allowed: the API accepts webhook deliveries from the webhook machine only.
    deliver: (event) => client.deliverWebhook.mutate({ event }),
  }
}
