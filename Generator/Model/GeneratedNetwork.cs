namespace Dsl.Generator.Model;

/// <summary>
/// The emit step's output: the file to add (null when nothing can be emitted), the diagnostics to report, and the
/// members the emitted class declares (<see cref="Emit.NetworkEmitter.Generate"/>: field and property names,
/// methods and constructors with their parameter types), so clashes with the user's own members can be reported.
/// </summary>
internal sealed record GeneratedNetwork(string ClassName, string? Namespace, string? Source, EquatableArray<DiagnosticInfo> Diagnostics, EquatableArray<string> Members = default);
