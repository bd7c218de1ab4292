/* standalone.c — runs a fuzz target on files, without libFuzzer
 *
 * The normal (gcc) build links each tests/fuzz target with this main ():
 * `fuzz-<name> DIR|FILE…` runs LLVMFuzzerTestOneInput () once on every
 * file given and on every file of every directory given (not recursively;
 * names starting with '.' are skipped), in name order. It is how the seed
 * corpus and the regressions run in every `meson test`.
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-fuzz.h"

#include <glib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A target need not define it. */
#pragma weak LLVMFuzzerInitialize

static gboolean
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree uint8_t *copy = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return FALSE;
  }

  /* An exact-size copy, as libFuzzer passes it, so that ASan sees a read
   * past the end (g_file_get_contents () adds a NUL); never NULL. */
  copy = g_malloc (MAX (length, 1));
  memcpy (copy, contents, length);
  printf ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, length);
  fflush (stdout);
  LLVMFuzzerTestOneInput (copy, length);

  return TRUE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static gboolean
run_dir (const char *path,
         guint      *n_inputs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
  const char *name;

  if (dir == NULL) {
    fprintf (stderr, "%s\n", error->message);
    return FALSE;
  }

  while ((name = g_dir_read_name (dir)) != NULL) {
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  }
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++) {
    g_autofree char *file = g_build_filename (path, g_ptr_array_index (names, i), NULL);

    if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
      continue;
    if (!run_file (file))
      return FALSE;
    (*n_inputs)++;
  }

  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  guint n_inputs = 0;

  if (argc < 2) {
    fprintf (stderr, "usage: %s DIR|FILE…\n", argv[0]);
    return EXIT_FAILURE;
  }

  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      if (!run_dir (argv[i], &n_inputs))
        return EXIT_FAILURE;
    } else {
      if (!run_file (argv[i]))
        return EXIT_FAILURE;
      n_inputs++;
    }
  }

  /* An empty seed corpus is a mistake in the tree, not a pass. */
  if (n_inputs == 0) {
    fprintf (stderr, "no inputs in the paths given\n");
    return EXIT_FAILURE;
  }
  printf ("%u inputs, no crash\n", n_inputs);

  return EXIT_SUCCESS;
}
