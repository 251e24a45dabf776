namespace Dsl.Generator.Model;

/// <summary>
/// What the parser reads from one <c>[Network]</c> class. This record is the first cache boundary:
/// it holds only strings, numbers and equatable arrays, never symbols or syntax, so an edit elsewhere
/// in the project produces an equal value and every later stage is skipped.
/// </summary>
internal sealed record NetworkSource(
    string? Namespace,
    string ClassName,
    string Accessibility,
    EquatableArray<BlockSource> Blocks,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool CanEmit,
    LocationInfo Location);
