// Verification results reduced to what parity compares: outcome, code, status, message (dates
// masked), action and the data as plain JSON; or the message a rejected promise carried.
export type Normalized = {
  threw?: string
  tokenType?: string
  ok?: boolean
  code?: string
  status?: number
  message?: string
  action?: string
  data?: Record<string, unknown>
}

const DATE = /[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} -?\d+ \d{2}:\d{2}:\d{2} GMT/g

export async function normalize(p: () => Promise<any>): Promise<Normalized> {
  try {
    const r = await p()
    const e = r.errors?.[0]
    return {
      tokenType: r.tokenType,
      ok: !r.errors,
      code: e?.code,
      status: e?.status,
      // Dates in claim messages depend on the instant of the call.
      message: e?.message?.replace(DATE, '<date>'),
      action: e?.action,
      data: r.data ? JSON.parse(JSON.stringify({ ...r.data, claims: r.data.claims ? { ...r.data.claims } : r.data.claims })) : undefined,
    }
  } catch (err) {
    return { threw: `${(err as Error).message}` }
  }
}
