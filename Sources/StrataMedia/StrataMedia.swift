// StrataMedia
