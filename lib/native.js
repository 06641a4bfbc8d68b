'use strict'
// The native addon, through napi's generated loader (../index.js), which tries the `.node` file
// next to it (a source checkout) and then this platform's package (`clerk-m2m-native-<platform>`,
// an optional dependency). The loader is generated and not edited; when it fails, the error it
// throws blames npm. This wrapper replaces it with one that says what was looked for on which
// platform, what is supported, and what to do — keeping the loader's error (and its per-candidate
// causes) as `cause`.

const { bindingLoadError } = require('./binding-error.js')

let binding
try {
  binding = require('../index.js')
} catch (e) {
  throw bindingLoadError(e)
}

module.exports = binding
