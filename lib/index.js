'use strict'
// Public entry point (CommonJS). The ESM entry (index.mjs) re-exports this.

module.exports = {
  ...require('./constants.js'),
  ...require('./detect.js'),
}
