using System;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Expand;
using Dsl.Generator.Model;
using Dsl.Generator.Parse;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Dsl.Generator;

/// <summary>
/// Turns every <c>[Network]</c> partial class into shape-checked Forward and Backward code.
/// Read top to bottom, this is the whole pipeline; each step is named so tests can prove it is cached.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (tests assert they are cached on unrelated edits).</summary>
    public static class Steps
    {
        public const string Parse = "Parse";
        public const string SharedBlocks = "SharedBlocks";
        public const string Link = "Link";
        public const string Build = "Build";
        public const string Emit = "Emit";
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // 1. Parse: the only step that sees syntax and symbols. Its NetworkSource is equatable, so an
        //    edit that leaves the definition alone stops the pipeline here.
        var sources = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "Dsl.NetworkAttribute",
                static (node, _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax,
                static (ctx, ct) => Guard(() => NetworkParser.Parse(ctx, ct) is { } parsed ? parsed with { Fuse = FuseOption(ctx) } : null, ctx))
            .WithTrackingName(Steps.Parse)
            .Where(static source => source is not null); // null: a second part repeating [Network], emitted once already

        // 1b. Shared blocks (issue 9): every static method of a static class returning Net or Layer, read once each as
        //     an equatable BlockSource. Link gives each network the ones it calls (and theirs): a network that calls none,
        //     or whose blocks did not change, comes out equal, so editing a shared block rebuilds only its callers.
        var shared = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => NetworkParser.IsSharedBlockCandidate(node),
                static (ctx, ct) => Guard(() => NetworkParser.ParseShared(ctx, ct), ctx.Node))
            .Where(static block => block is not null)
            .Collect()
            .Select(static (blocks, _) => EquatableArray.From(blocks.Select(b => b!)))
            .WithTrackingName(Steps.SharedBlocks);
        var linked = sources
            .Combine(shared)
            .Select(static (pair, _) => NetworkParser.Link(pair.Left!, pair.Right))
            .WithTrackingName(Steps.Link);

        // 2. Build: expand blocks, infer every shape, collect diagnostics. Pure function of the source model; the
        //    user's member list rides along (equatable) for the clash check after emitting.
        var models = linked
            .Select(static (source, ct) => (Model: Guard(() => Expander.Build(source!, ct) with { Fuse = source!.Fuse }, source!), source!.Members, source.Inherited, source.FullName))
            .WithTrackingName(Steps.Build);

        // 3. Emit: the generated class (or a stub when there are errors) and the diagnostics to report.
        var outputs = models
            .Select(static (built, _) => (Network: Guard(built.Model, built.Members, built.Inherited), built.FullName))
            .WithTrackingName(Steps.Emit);

        context.RegisterSourceOutput(outputs, static (spc, output) =>
        {
            if (output.Network.Source is not null)
            {
                spc.AddSource(HintName(output.FullName), SourceText.From(output.Network.Source, System.Text.Encoding.UTF8));
            }
        });

        // 4. Report: diagnostics are rebuilt against the compilation's own syntax trees, so they carry real
        //    source locations and '#pragma warning disable' works. Only this light step sees the compilation.
        var diagnostics = outputs
            .Select(static (output, _) => output.Network.Diagnostics)
            .Combine(context.CompilationProvider);
        context.RegisterSourceOutput(diagnostics, static (spc, pair) =>
        {
            foreach (var d in pair.Left)
            {
                var descriptor = Descriptors.Find(d.Id);
                if (descriptor is null)
                {
                    continue;
                }
                var additional = new Location[d.AdditionalLocations.Count];
                for (int i = 0; i < additional.Length; i++)
                {
                    additional[i] = ToLocation(d.AdditionalLocations[i], pair.Right);
                }
                spc.ReportDiagnostic(Diagnostic.Create(descriptor, ToLocation(d.Location, pair.Right), additional, System.Linq.Enumerable.ToArray(d.Arguments.Items)));
            }
        });
    }

    /// <summary><c>[Network(Fuse = false)]</c> turns fusion off for one network; true when the argument is absent.</summary>
    private static bool FuseOption(GeneratorAttributeSyntaxContext ctx)
    {
        foreach (var attribute in ctx.Attributes)
        {
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == "Fuse" && argument.Value.Value is bool fuse)
                {
                    return fuse;
                }
            }
        }
        return true;
    }

    private static Location ToLocation(LocationInfo info, Compilation compilation)
    {
        foreach (var tree in compilation.SyntaxTrees)
        {
            if (tree.FilePath == info.FilePath && info.Span.End <= tree.Length)
            {
                return Location.Create(tree, info.Span);
            }
        }
        return info.ToLocation();
    }

    /// <summary>
    /// The generator never throws: an unexpected failure becomes a DSL0999 diagnostic at the class (and nothing is
    /// emitted), so the user's build says what happened instead of a generator crash warning.
    /// </summary>
    private static NetworkSource? Guard(Func<NetworkSource?> parse, GeneratorAttributeSyntaxContext ctx)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var location = LocationInfo.From(ctx.TargetNode is TypeDeclarationSyntax c ? c.Identifier.GetLocation() : ctx.TargetNode.GetLocation());
            return new NetworkSource(null, ctx.TargetSymbol.Name, "internal", EquatableArray<BlockSource>.Empty,
                EquatableArray.From(new[] { Failure(ctx.TargetSymbol.Name, "reading the class", e, location) }), false, location,
                ctx.TargetSymbol.ToDisplayString(), EquatableArray<UserMember>.Empty, EquatableArray<UserMember>.Empty);
        }
    }

    /// <summary>A shared block whose reading failed expands to DSL0999 at the method, wherever it is called.</summary>
    private static BlockSource? Guard(Func<BlockSource?> parse, SyntaxNode node)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var method = (MethodDeclarationSyntax)node;
            var location = LocationInfo.From(method.Identifier.GetLocation());
            string name = method.Identifier.ValueText;
            return new BlockSource(name, true, EquatableArray<BlockParameter>.Empty, EquatableArray<Binding>.Empty,
                new InvalidExpr(name, Failure(name, "reading the shared block", e, location), location), location, "?" + name, Shared: true);
        }
    }

    private static NetworkModel Guard(Func<NetworkModel> build, NetworkSource source)
    {
        try
        {
            return build();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new NetworkModel(source.Namespace, source.ClassName, source.Accessibility, EquatableArray<GraphNode>.Empty, -1,
                EquatableArray.From(source.Diagnostics.Concat(new[] { Failure(source.ClassName, "expanding the definition", e, source.Location) })),
                source.CanEmit, HasErrors: true);
        }
    }

    private static GeneratedNetwork Guard(NetworkModel model, EquatableArray<UserMember> userMembers, EquatableArray<UserMember> inherited)
    {
        try
        {
            string? source = model.CanEmit ? NetworkEmitter.Emit(model) : null;
            if (source is null)
            {
                return new GeneratedNetwork(model.ClassName, model.Namespace, null, model.Diagnostics);
            }
            // A user member that a generated one clashes with: say so at the user's member and emit nothing, rather
            // than a file whose CS0102/CS0111 errors point into code the user never wrote.
            var clashes = MemberClashes.Find(model.ClassName, userMembers, MemberClashes.Declared(source), inherited).ToList();
            return clashes.Count == 0
                ? new GeneratedNetwork(model.ClassName, model.Namespace, source, model.Diagnostics)
                : new GeneratedNetwork(model.ClassName, model.Namespace, null, EquatableArray.From(model.Diagnostics.Concat(clashes)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new GeneratedNetwork(model.ClassName, model.Namespace, null,
                EquatableArray.From(model.Diagnostics.Concat(new[] { Failure(model.ClassName, "writing the code", e, null) })));
        }
    }

    /// <summary>
    /// The generated file's name: the class's full name and a hash of it. Hint names are compared without case, so
    /// <c>Tiny</c> and <c>TINY</c> need the hash (of the exact, case-kept name) to get two files; a collision would
    /// make the compiler drop the output of every network in the project (CS8785).
    /// </summary>
    internal static string HintName(string fullName)
    {
        uint hash = 2166136261; // FNV-1a, 32 bits: stable across processes and runtimes, unlike string.GetHashCode
        foreach (char c in fullName)
        {
            hash = unchecked((hash ^ c) * 16777619);
        }
        return fullName + "." + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + ".g.cs";
    }

    private static DiagnosticInfo Failure(string className, string stage, Exception e, LocationInfo? location)
        => DiagnosticInfo.Create(Descriptors.InternalError, location ?? new LocationInfo("", default, default), className, $"{stage}: {e.GetType().Name}: {e.Message}");
}
