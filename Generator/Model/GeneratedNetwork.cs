namespace Dsl.Generator.Model;

/// <summary>The emit step's output: the file to add (null when nothing can be emitted) and the diagnostics to report.</summary>
internal sealed record GeneratedNetwork(string ClassName, string? Namespace, string? Source, EquatableArray<DiagnosticInfo> Diagnostics);
