/* test-openssl-exit.c — pl_media_init () keeps OpenSSL up until exit
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * docs/webrtcbin-1.22.md, bug 24: a GLib pool thread that has used OpenSSL
 * (as a DTLS connection's timer thread does) and exits while OpenSSL's
 * atexit cleanup runs leaks its error state. Each child below does what a
 * phone does at quit: the pool is freed, and the process exits at once.
 * LeakSanitizer, in the asan setup, fails such a child in about one run in
 * two without the fix; without a sanitizer the children cannot fail.
 */

#include "config.h"

#include "pl-media.h"

#include <openssl/err.h>

#define CHILDREN 24

static GMutex lock;
static GCond  cond;
static gboolean done;

static void
use_openssl (gpointer data,
             gpointer user_data)
{
  ERR_clear_error ();

  g_mutex_lock (&lock);
  done = TRUE;
  g_cond_signal (&cond);
  g_mutex_unlock (&lock);
}

static int
child (void)
{
  g_autoptr(GError) error = NULL;
  GThreadPool *pool;

  if (!pl_media_init (&error))
    g_error ("pl_media_init: %s", error->message);

  g_thread_pool_set_max_unused_threads (0);
  pool = g_thread_pool_new (use_openssl, NULL, 1, FALSE, NULL);
  g_thread_pool_push (pool, GINT_TO_POINTER (1), NULL);

  g_mutex_lock (&lock);
  while (!done)
    g_cond_wait (&cond, &lock);
  g_mutex_unlock (&lock);

  g_thread_pool_free (pool, TRUE, TRUE);

  return 0;
}

static void
test_exit_while_a_thread_exits (gconstpointer data)
{
  const char *self = data;

  for (guint i = 0; i < CHILDREN; i++) {
    const char *argv[] = { self, "--child", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    int status;

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                       NULL, &err, &status, &error))
      g_error ("%s: %s", self, error->message);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("child %u of %u failed: %s", i + 1, CHILDREN, err);
  }
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 2 && g_str_equal (argv[1], "--child"))
    return child ();

  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/partyline/openssl/exit-while-a-thread-exits", argv[0],
                        test_exit_while_a_thread_exits);

  return g_test_run ();
}
