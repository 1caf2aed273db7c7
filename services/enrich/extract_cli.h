/* extract_cli.h - `sp-enrich extract --catalog FILE [--tz ZONE]`: JSON lines
 * in on stdin, JSON lines out on stdout, as shared/design/extraction.md says. */
#ifndef SP_ENRICH_EXTRACT_CLI_H
#define SP_ENRICH_EXTRACT_CLI_H

/* argv[0] is "extract". Returns the process exit status (0 even when some
 * lines could not be parsed; 2 on a usage or catalog error). */
int enrich_extract_cli(int argc, char **argv);

#endif
