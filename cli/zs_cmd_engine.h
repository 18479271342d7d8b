/*  zs_cmd_engine.h - CLI commands that use the engine on this machine.  */
#ifndef ZS_CMD_ENGINE_H
#define ZS_CMD_ENGINE_H

/*  zscan indicators --data SOURCE SYMBOL: every bar with every indicator,
    CSV with a header, numbers with 17 significant digits.  argv[0] is
    "indicators".  Returns the exit code (non-zero with the reason for a
    bad data file). */
int zs_cmd_indicators (int argc, char **argv);

/*  zscan import CSVDIR STORE: builds the memory-mapped binary store from
    every SYMBOL.csv in CSVDIR.  Returns the exit code. */
int zs_cmd_import (int argc, char **argv);

#endif
