// node --import ./register.mjs out/main/index.js: maps the `electron` module to the recording stub.
import { register } from 'node:module'

register(new URL('./hooks.mjs', import.meta.url))
