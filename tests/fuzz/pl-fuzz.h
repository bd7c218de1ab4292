/* pl-fuzz.h — what a tests/fuzz target defines, for libFuzzer or standalone.c
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Runs the code under test on one input. Returns 0 (libFuzzer's contract);
 * a bug aborts. */
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Optional: once, before the first input. */
int LLVMFuzzerInitialize   (int    *argc,
                            char ***argv);

/* What every target's LLVMFuzzerInitialize () does first: a GLib warning or
 * critical is a bug the fuzzer should stop on, as G_DEBUG=fatal-warnings
 * makes it in the test suites. */
static inline void
pl_fuzz_init (void)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* The LLVMFuzzerInitialize () of a target that needs nothing else. */
#define PL_FUZZ_DEFINE_INITIALIZE()             \
  int                                           \
  LLVMFuzzerInitialize (int    *argc,           \
                        char ***argv)           \
  {                                             \
    pl_fuzz_init ();                            \
    return 0;                                   \
  }

G_END_DECLS
