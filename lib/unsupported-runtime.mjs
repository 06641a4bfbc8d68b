// ESM twin of unsupported-runtime.js: throws the same "needs the Node.js runtime" error.
import './unsupported-runtime.js'
