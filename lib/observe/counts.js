'use strict'
// Outcome counts as native code reports them (JSON `[[tokenType, code, count], …]`) turned into
// the nested table the stats functions return: `{ m2m_token: { ok: 3, 'token-invalid': 1 } }`.

function outcomeTable(json) {
  const table = {}
  for (const [tokenType, code, count] of JSON.parse(json)) {
    if (table[tokenType] === undefined) table[tokenType] = {}
    table[tokenType][code] = count
  }
  return table
}

module.exports = { outcomeTable }
