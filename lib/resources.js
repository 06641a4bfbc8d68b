'use strict'
// Resource classes with the reference's constructors, field order and
// `fromJSON` mappings, and its response `deserialize` rules.

class M2MToken {
  constructor(id, subject, scopes, claims, revoked, revocationReason, expired, expiration, createdAt, updatedAt, token) {
    this.id = id
    this.subject = subject
    this.scopes = scopes
    this.claims = claims
    this.revoked = revoked
    this.revocationReason = revocationReason
    this.expired = expired
    this.expiration = expiration
    this.createdAt = createdAt
    this.updatedAt = updatedAt
    this.token = token
  }

  static fromJSON(data) {
    return new M2MToken(
      data.id,
      data.subject,
      data.scopes,
      data.claims,
      data.revoked,
      data.revocation_reason,
      data.expired,
      data.expiration,
      data.created_at,
      data.updated_at,
      data.token,
    )
  }
}

function toActor(value, nestedLevels) {
  if (typeof value !== 'object' || value === null) return undefined
  const { iss, sub, act } = value
  if (typeof sub !== 'string') return undefined
  const nested = nestedLevels > 0 ? toActor(act, nestedLevels - 1) : undefined
  return { ...(typeof iss === 'string' ? { iss } : {}), sub, ...(nested ? { act: nested } : {}) }
}

class IdPOAuthAccessToken {
  constructor(id, clientId, type, subject, scopes, revoked, revocationReason, expired, expiration, createdAt, updatedAt, aud, act) {
    this.id = id
    this.clientId = clientId
    this.type = type
    this.subject = subject
    this.scopes = scopes
    this.revoked = revoked
    this.revocationReason = revocationReason
    this.expired = expired
    this.expiration = expiration
    this.createdAt = createdAt
    this.updatedAt = updatedAt
    this.aud = aud
    this.act = act
  }

  static fromJSON(data) {
    return new IdPOAuthAccessToken(
      data.id,
      data.client_id,
      data.type,
      data.subject,
      data.scopes,
      data.revoked,
      data.revocation_reason,
      data.expired,
      data.expiration,
      data.created_at,
      data.updated_at,
      data.aud,
      toActor(data.act, 1),
    )
  }
}

class APIKey {
  constructor(id, type, name, subject, scopes, claims, revoked, revocationReason, expired, expiration, createdBy, description, lastUsedAt, createdAt, updatedAt, secret) {
    this.id = id
    this.type = type
    this.name = name
    this.subject = subject
    this.scopes = scopes
    this.claims = claims
    this.revoked = revoked
    this.revocationReason = revocationReason
    this.expired = expired
    this.expiration = expiration
    this.createdBy = createdBy
    this.description = description
    this.lastUsedAt = lastUsedAt
    this.createdAt = createdAt
    this.updatedAt = updatedAt
    this.secret = secret
  }

  static fromJSON(data) {
    return new APIKey(
      data.id,
      data.type,
      data.name,
      data.subject,
      data.scopes,
      data.claims,
      data.revoked,
      data.revocation_reason,
      data.expired,
      data.expiration,
      data.created_by,
      data.description,
      data.last_used_at,
      data.created_at,
      data.updated_at,
      data.secret,
    )
  }
}

class DeletedObject {
  constructor(object, id, slug, deleted) {
    this.object = object
    this.id = id
    this.slug = slug
    this.deleted = deleted
  }

  static fromJSON(data) {
    return new DeletedObject(data.object, data.id || null, data.slug || null, data.deleted)
  }
}

const FROM_JSON = {
  machine_to_machine_token: M2MToken,
  clerk_idp_oauth_access_token: IdPOAuthAccessToken,
  api_key: APIKey,
}

/** Registers further resource classes by `object` value (the M2M API adds machines). */
function registerResource(objectName, cls) {
  FROM_JSON[objectName] = cls
}

// Same checks as the reference, including its TypeError for a `null` or numeric item.
function jsonToObject(item) {
  if (typeof item !== 'string' && 'object' in item && 'deleted' in item) return DeletedObject.fromJSON(item)
  const cls = Object.prototype.hasOwnProperty.call(FROM_JSON, item.object) ? FROM_JSON[item.object] : undefined
  return cls ? cls.fromJSON(item) : item
}

/** The reference's `deserialize`: arrays, `{m2m_tokens}` lists, `{data}` pages, single items. */
function deserialize(payload) {
  if (Array.isArray(payload)) return payload.map(jsonToObject)
  if (payload && typeof payload === 'object' && Array.isArray(payload.m2m_tokens)) {
    return { data: payload.m2m_tokens.map(jsonToObject), totalCount: payload.total_count }
  }
  if (payload && typeof payload === 'object' && Array.isArray(payload.data) && payload.data !== undefined) {
    return { data: payload.data.map(jsonToObject), totalCount: payload.total_count }
  }
  return jsonToObject(payload)
}

module.exports = { M2MToken, IdPOAuthAccessToken, APIKey, DeletedObject, deserialize, registerResource }
