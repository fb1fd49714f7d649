# doxygen-filter.sed - lets Doxygen read mproc's headers as they are.
# Their comments are plain /* */ blocks written above what they describe;
# this turns them into doc comments, the first one of a file into its
# @file comment, comments after a member into member docs, and leaves the
# "---- section ----" rulers alone.
1s|^/\* *[^ ]* - |/** @file\n * |
/^ *\/\* *----/b
s|^\( *\)/\* |\1/** |
s|\([,;{]\)\( *\)/\* |\1\2/**< |
