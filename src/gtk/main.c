/* main.c — partyline, the desktop dialer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partyline"

#include "config.h"

#include "pl-application.h"
#include "pl-media.h"
#include "pl-process.h"

#include <glib/gi18n.h>

#include <locale.h>

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PlApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  const char *localedir;

  setlocale (LC_ALL, "");
  /* PARTYLINE_LOCALEDIR: the translations of an uninstalled build (tests). */
  localedir = g_getenv ("PARTYLINE_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Partyline"));
  pl_process_raise_fd_limit ();

  if (!pl_media_init (&error)) {
    g_printerr ("partyline: %s\n", error->message);
    return 1;
  }

  app = pl_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
