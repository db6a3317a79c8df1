// capsync boot. The real boot sequence (credentials → network → cloud config → capture → sync)
// is wired in by the Moddable app work; until then the app only proves it starts.
trace("capsync: boot\n");
