// The signing dialog: shows exactly what is signed, asks for password and TOTP, posts to the
// signature API. Filled in when the API offers lot dispositions.

import { h, toast } from '../dom.js';

export function signDialog(lot) {
  toast(`Signing dispositions needs the signature API, which this server does not offer yet (lot ${lot.lotNumber}).`, true);
  return h('span');
}
