/* pl-cli.h — the headless phone (docs/cli.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "pl-media.h"

G_BEGIN_DECLS

typedef struct {
  char          *server_url;
  char          *number;
  char          *token;
  int            auto_answer_ms;  /* -1: off */
  guint          ring_timeout_s;  /* 0: never */
  guint          register_timeout_s;  /* 0: never */
  guint          max_calls;       /* at once, >= 1 */
  GStrv          dial;            /* numbers to dial once registered, or NULL */
  gboolean       json;
  PlMediaConfig *media;
} PlCliOptions;

/* The exit statuses of docs/cli.md, "Exit status". */
enum {
  PL_CLI_EXIT_OK = 0,
  PL_CLI_EXIT_USAGE = 2,
  PL_CLI_EXIT_SERVER = 3,
};

/* Runs the phone until `quit`, end of input or a signal; returns the exit status. */
int pl_cli_run (const PlCliOptions *options);

G_END_DECLS
