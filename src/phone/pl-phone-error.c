/* pl-phone-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-phone-error.h"

G_DEFINE_QUARK (pl-signaling-error-quark, pl_signaling_error)
G_DEFINE_QUARK (pl-call-error-quark, pl_call_error)
