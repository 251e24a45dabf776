using Microsoft.CodeAnalysis;

namespace Dsl.Generator.Model;

/// <summary>A diagnostic as plain values (descriptor id, message arguments, locations), rebuilt at report time.</summary>
internal sealed record DiagnosticInfo(string Id, EquatableArray<string> Arguments, LocationInfo Location, EquatableArray<LocationInfo> AdditionalLocations)
{
    /// <summary>True unless the descriptor is a warning: a warning never stops the network from being generated.</summary>
    public bool IsError => Diagnostics.Descriptors.Find(Id)?.DefaultSeverity != DiagnosticSeverity.Warning;

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo location, params string[] arguments)
        => new(descriptor.Id, EquatableArray.From(arguments), location, EquatableArray<LocationInfo>.Empty);

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo location, EquatableArray<LocationInfo> callSites, params string[] arguments)
        => new(descriptor.Id, EquatableArray.From(arguments), location, callSites);
}
