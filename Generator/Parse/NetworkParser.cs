using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Dsl.Generator.Parse;

/// <summary>
/// First stage: reads a <c>[Network]</c> class with its semantic model into a <see cref="NetworkSource"/>.
/// This is the only place that sees symbols and syntax; everything it returns is a plain value.
/// It resolves every name (which calls are catalogue layers, which are blocks, which are bindings) and
/// binds every argument to its parameter, defaults included, so later stages need no compiler.
/// </summary>
internal static class NetworkParser
{
    private const string DslNamespace = "Dsl";
    private const string LayersType = "Dsl.Layers";
    private const string DimType = "Dsl.Dim";

    /// <summary>
    /// Reads the class, or returns null for a second part that repeats <c>[Network]</c>: the attribute's first
    /// declaration speaks for the class, so its code is emitted once (and the compiler reports the duplicate attribute).
    /// </summary>
    public static NetworkSource? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;
        if (!IsFirstAttributedPart(type, declaration))
        {
            return null;
        }
        var location = LocationInfo.From(declaration.Identifier.GetLocation());
        var diagnostics = new List<DiagnosticInfo>();
        string? ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
        string accessibility = type.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
        var parts = type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellationToken))
            .OfType<TypeDeclarationSyntax>()
            .ToList();

        bool canEmit = true;
        if (type.IsRecord)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name,
                "is a record; the generator adds mutable buffers and a constructor of its own, so declare a 'partial class'"));
            canEmit = false;
        }
        bool isPartial = parts.All(c => c.Modifiers.Any(SyntaxKind.PartialKeyword));
        if (!isPartial)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, location, type.Name));
            canEmit = false;
        }
        if (type.ContainingType is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name, "is nested in another type; declare it at namespace level"));
            canEmit = false;
        }
        if (type.IsGenericType)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name, "is generic; a network's shapes are fixed at compile time"));
            canEmit = false;
        }
        if (type.IsStatic || type.IsAbstract)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name, "is static or abstract; the generator adds a constructor and instance methods"));
            canEmit = false;
        }
        if (type.BaseType is { } baseType
            && !(baseType.Name == "Module" && baseType.ContainingNamespace.ToDisplayString() == DslNamespace)
            && !type.IsRecord
            && (baseType.SpecialType != SpecialType.System_Object || DeclaresBaseClass(parts, context.SemanticModel.Compilation, cancellationToken)))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, location, type.Name,
                $"derives from '{baseType.ToDisplayString()}'; the generator makes it derive from Dsl.Module, so declare no base class"));
            canEmit = false;
        }

        var blocks = new List<BlockSource>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!method.IsStatic || method.MethodKind != MethodKind.Ordinary || !IsDslType(method.ReturnType, out bool returnsNet))
            {
                continue;
            }
            var syntax = method.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<MethodDeclarationSyntax>().FirstOrDefault();
            if (syntax is null)
            {
                continue;
            }
            var model = context.SemanticModel.SyntaxTree == syntax.SyntaxTree
                ? context.SemanticModel
                : context.SemanticModel.Compilation.GetSemanticModel(syntax.SyntaxTree);
            blocks.Add(new BlockReader(model, type, ownerIsNetwork: true, method, cancellationToken).Read(syntax, returnsNet, method.Name, key: null, shared: false));
        }

        diagnostics.AddRange(DefineShape(type, location, cancellationToken));

        // A primary constructor makes every other constructor chain to it, so the generated (Device, int) one
        // could not call base(device, seed).
        foreach (var part in parts)
        {
            if (part.ParameterList is { } primary && !type.IsRecord)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.PrimaryConstructor, LocationInfo.From(primary), type.Name));
                canEmit = false;
            }
        }

        string fullName = ns is null ? type.Name : ns + "." + type.Name;
        var module = context.SemanticModel.Compilation.GetTypeByMetadataName(DslNamespace + ".Module");
        return new NetworkSource(ns, type.Name, accessibility, EquatableArray.From(blocks), EquatableArray.From(diagnostics), canEmit, location,
            fullName, Members(type, declaredOnly: true, cancellationToken), module is null ? EquatableArray<UserMember>.Empty : Members(module, declaredOnly: false, cancellationToken));
    }

    /// <summary>
    /// Cheap syntactic filter for shared blocks: a static method of a static class whose return type is written
    /// <c>Net</c> or <c>Layer</c> (qualified or not). The transform checks the real type with the semantic model.
    /// </summary>
    public static bool IsSharedBlockCandidate(SyntaxNode node)
        => node is MethodDeclarationSyntax { Parent: ClassDeclarationSyntax owner } method
            && method.Modifiers.Any(SyntaxKind.StaticKeyword)
            && owner.Modifiers.Any(SyntaxKind.StaticKeyword)
            && (method.Body is not null || method.ExpressionBody is not null)
            && RightmostName(method.ReturnType) is "Net" or "Layer";

    private static string? RightmostName(TypeSyntax type) => type switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText,
        QualifiedNameSyntax q => q.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax a => a.Name.Identifier.ValueText,
        _ => null,
    };

    /// <summary>
    /// Reads a shared block (issue 9): a static, non-generic method of a static class of this compilation returning
    /// <c>Net</c> or <c>Layer</c>; null for anything else. Networks that call it pick it up by its key in the Link step.
    /// </summary>
    public static BlockSource? ParseShared(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var syntax = (MethodDeclarationSyntax)context.Node;
        if (context.SemanticModel.GetDeclaredSymbol(syntax, cancellationToken) is not IMethodSymbol method
            || !method.IsStatic || method.MethodKind != MethodKind.Ordinary || method.IsGenericMethod
            || method.ContainingType is not { IsStatic: true, IsGenericType: false } owner
            || !IsDslType(method.ReturnType, out bool returnsNet))
        {
            return null;
        }
        return new BlockReader(context.SemanticModel, owner, ownerIsNetwork: false, method, cancellationToken)
            .Read(syntax, returnsNet, SharedName(method), SharedKey(method), shared: true);
    }

    /// <summary>How messages and the summary name a shared block: <c>Blocks.ConvBnRelu</c>.</summary>
    internal static string SharedName(IMethodSymbol method) => method.ContainingType.Name + "." + method.Name;

    /// <summary>
    /// The key a call and the declaration agree on: the class's full name, the method's name and its parameter types
    /// (C#'s overload resolution picked one at the call).
    /// </summary>
    internal static string SharedKey(IMethodSymbol method)
    {
        // Always with the parameter types: adding an overload later must not change the key a cached call holds.
        return method.ContainingType.ToDisplayString() + "." + method.Name + "(" + string.Join(",", method.Parameters.Select(p => p.Type.ToDisplayString())) + ")";
    }

    /// <summary>
    /// Adds to a network's blocks the shared blocks it calls, and those they call, from every shared block of the
    /// compilation. A network that calls none comes back as it was (equal), so editing a shared block re-runs only the
    /// networks that use it.
    /// </summary>
    public static NetworkSource Link(NetworkSource source, EquatableArray<BlockSource> shared)
    {
        var pending = new Stack<string>(source.Blocks.SelectMany(b => b.SharedCalls));
        if (pending.Count == 0)
        {
            return source;
        }
        var byKey = new Dictionary<string, BlockSource>();
        foreach (var block in shared)
        {
            if (!byKey.ContainsKey(block.Id))
            {
                byKey[block.Id] = block;
            }
        }
        var needed = new SortedDictionary<string, BlockSource>(System.StringComparer.Ordinal);
        while (pending.Count > 0)
        {
            string key = pending.Pop();
            if (!needed.ContainsKey(key) && byKey.TryGetValue(key, out var block))
            {
                needed[key] = block;
                foreach (string inner in block.SharedCalls)
                {
                    pending.Push(inner);
                }
            }
        }
        return source with { Blocks = EquatableArray.From(source.Blocks.Concat(needed.Values)) };
    }

    /// <summary>
    /// The definition must be exactly one <c>static Net Define()</c>: none at all is DSL0002; a <c>Define</c> that is an
    /// instance method, takes parameters or returns something else is DSL0030 at that method (the generator would
    /// otherwise skip it and report a missing definition); a second <c>Define</c> overload is DSL0031 at each extra one.
    /// </summary>
    private static IEnumerable<DiagnosticInfo> DefineShape(INamedTypeSymbol type, LocationInfo location, CancellationToken cancellationToken)
    {
        var defines = type.GetMembers("Define").OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        if (defines.Count == 0)
        {
            yield return DiagnosticInfo.Create(Descriptors.NoDefinition, location, type.Name);
            yield break;
        }
        bool IsDefinition(IMethodSymbol m) => m.IsStatic && m.Parameters.Length == 0 && IsDslType(m.ReturnType, out bool net) && net;
        LocationInfo At(IMethodSymbol m)
            => m.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax syntax
                ? LocationInfo.From(syntax.Identifier.GetLocation())
                : location;
        if (defines.Count > 1)
        {
            // Keep the one that is a definition (or the first declared) and point at the others.
            var kept = defines.FirstOrDefault(IsDefinition) ?? defines[0];
            foreach (var extra in defines.Where(m => !SymbolEqualityComparer.Default.Equals(m, kept)))
            {
                yield return DiagnosticInfo.Create(Descriptors.DefineOverloaded, At(extra), type.Name, "Define(" + string.Join(", ", extra.Parameters.Select(q => q.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat) + " " + q.Name)) + ")");
            }
            if (IsDefinition(kept))
            {
                yield break;
            }
        }
        var define = defines.FirstOrDefault(IsDefinition) ?? defines[0];
        if (!IsDefinition(define))
        {
            string why = !define.IsStatic ? "is an instance method; the definition is read at compile time, never called on an object: make it static"
                : define.Parameters.Length > 0 ? $"takes {define.Parameters.Length} parameter(s); a network's definition takes none (make the parameterised method a block with another name and call it from Define)"
                : $"returns '{define.ReturnType.ToDisplayString()}'; it must return Net (a block returning Layer needs another name)";
            yield return DiagnosticInfo.Create(Descriptors.DefineSignature, At(define), type.Name, why);
        }
    }

    /// <summary>True when a part names a class in its base list (even <c>object</c>, which the generated part's Module contradicts).</summary>
    private static bool DeclaresBaseClass(List<TypeDeclarationSyntax> parts, Compilation compilation, CancellationToken cancellationToken)
    {
        foreach (var part in parts)
        {
            if (part.BaseList is { } list)
            {
                var model = compilation.GetSemanticModel(part.SyntaxTree);
                if (list.Types.Any(t => model.GetTypeInfo(t.Type, cancellationToken).Type is { TypeKind: TypeKind.Class }))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static bool IsFirstAttributedPart(INamedTypeSymbol type, TypeDeclarationSyntax declaration)
    {
        var first = type.GetAttributes()
            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "Dsl.NetworkAttribute")?.ApplicationSyntaxReference;
        return first is null || first.SyntaxTree == declaration.SyntaxTree && declaration.Span.Contains(first.Span);
    }

    /// <summary>
    /// The members the user declared (in any part) as plain values, for the clash check against the generated ones; or,
    /// for <c>Dsl.Module</c> (<paramref name="declaredOnly"/> false), the non-private members a network inherits from it.
    /// </summary>
    private static EquatableArray<UserMember> Members(INamedTypeSymbol type, bool declaredOnly, CancellationToken cancellationToken)
    {
        var members = new List<UserMember>();
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var at = member.Locations.FirstOrDefault(l => l.IsInSource);
            if (member.IsImplicitlyDeclared || (declaredOnly ? at is null : member.DeclaredAccessibility == Accessibility.Private))
            {
                continue;
            }
            MemberKind? kind = member switch
            {
                IFieldSymbol => MemberKind.Field,
                IPropertySymbol { IsIndexer: false } => MemberKind.Property,
                IEventSymbol => MemberKind.Event,
                IMethodSymbol { MethodKind: MethodKind.Ordinary } => MemberKind.Method,
                IMethodSymbol { MethodKind: MethodKind.Constructor } => MemberKind.Constructor,
                INamedTypeSymbol => MemberKind.Type,
                _ => null, // indexers, operators, destructors, static constructors: the generator declares none
            };
            if (kind is null || !declaredOnly && kind == MemberKind.Constructor) // constructors are not inherited
            {
                continue;
            }
            var parameters = member is IMethodSymbol method
                ? method.Parameters.Select(p => RefPrefix(p.RefKind) + p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat))
                : Enumerable.Empty<string>();
            members.Add(new UserMember(member.Name, kind.Value, EquatableArray.From(parameters),
                declaredOnly ? LocationInfo.From(at!) : new LocationInfo("", default, default)));
        }
        return EquatableArray.From(members);
    }

    private static string RefPrefix(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        _ => "",
    };

    /// <summary>False for a half-typed <c>Block(int, int)</c> or a repeated name: arguments cannot be bound to such parameters.</summary>
    private static bool HasNamedParameters(IMethodSymbol method)
        => method.Parameters.All(p => p.Name.Length > 0) && method.Parameters.Select(p => p.Name).Distinct().Count() == method.Parameters.Length;

    internal static bool IsDslType(ITypeSymbol type, out bool isNet)
    {
        isNet = false;
        if (type.ContainingNamespace?.ToDisplayString() != DslNamespace)
        {
            return false;
        }
        isNet = type.Name == "Net";
        return isNet || type.Name == "Layer";
    }

    internal static ParamType ParameterType(ITypeSymbol type)
    {
        if (IsDslType(type, out bool isNet))
        {
            return isNet ? ParamType.Net : ParamType.Layer;
        }
        if (type is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Int32 })
        {
            return ParamType.IntArray;
        }
        return type.SpecialType switch
        {
            SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Int16 or SpecialType.System_Byte => ParamType.Int,
            SpecialType.System_Single or SpecialType.System_Double => ParamType.Number,
            SpecialType.System_Boolean => ParamType.Bool,
            SpecialType.System_String => ParamType.String,
            _ => ParamType.Unsupported,
        };
    }

    /// <summary>Source text on one line, for messages and generated comments.</summary>
    internal static string OneLine(SyntaxNode node) => Regex.Replace(node.ToString(), @"\s+", " ").Trim();

    /// <summary>Reads one method body: <c>var</c> bindings, then a result; or statements (loops, conditionals).</summary>
    private sealed class BlockReader
    {
        private readonly SemanticModel _model;
        private readonly INamedTypeSymbol _owner;
        private readonly bool _ownerIsNetwork;
        private readonly IMethodSymbol _method;
        private readonly CancellationToken _cancellationToken;
        private readonly SortedSet<string> _sharedCalls = new(System.StringComparer.Ordinal);

        public BlockReader(SemanticModel model, INamedTypeSymbol owner, bool ownerIsNetwork, IMethodSymbol method, CancellationToken cancellationToken)
        {
            _model = model;
            _owner = owner;
            _ownerIsNetwork = ownerIsNetwork;
            _method = method;
            _cancellationToken = cancellationToken;
        }

        public BlockSource Read(MethodDeclarationSyntax syntax, bool returnsNet, string name, string? key, bool shared)
        {
            var location = LocationInfo.From(syntax.Identifier.GetLocation());
            var parameters = _method.Parameters
                .Select((p, i) => new BlockParameter(p.Name.Length > 0 ? p.Name : "#" + i, ParameterType(p.Type), p.Type.ToDisplayString(),
                    shared ? DefaultValue(p, location) : null))
                .ToImmutableArray();
            var bindings = new List<Binding>();
            var statements = EquatableArray<Statement>.Empty;
            DslExpr? result = null;
            var extent = shared ? LocationInfo.From(syntax) : null;
            if (!HasNamedParameters(_method))
            {
                // Half-typed parameters ('Block(int, int)') or a repeated name: the compiler already reports the
                // parameter list, and the body cannot be bound to names, so the block expands to nothing more to say.
                return new BlockSource(name, returnsNet, new EquatableArray<BlockParameter>(parameters), EquatableArray<Binding>.Empty,
                    new InvalidExpr(syntax.Identifier.ValueText, null, location), location, key, shared, EquatableArray<string>.Empty, default, extent);
            }

            if (syntax.ExpressionBody is { } arrow)
            {
                result = Expr(arrow.Expression);
            }
            else if (syntax.Body is { } body && !IsBindingsAndReturn(body))
            {
                // Loops, conditionals, assignments, constants: run as statements by the expander.
                statements = Statements(body.Statements);
                result = new InvalidExpr(syntax.Identifier.ValueText, null, location);
            }
            else if (syntax.Body is { } simple)
            {
                foreach (var statement in simple.Statements)
                {
                    _cancellationToken.ThrowIfCancellationRequested();
                    if (result is null && statement is LocalDeclarationStatementSyntax local
                        && local.Declaration.Variables.Count == 1
                        && local.Declaration.Variables[0].Initializer is { } init)
                    {
                        var v = local.Declaration.Variables[0];
                        bindings.Add(new Binding(v.Identifier.ValueText, Expr(init.Value), LocationInfo.From(v.Identifier.GetLocation())));
                    }
                    else if (result is null && statement is ReturnStatementSyntax { Expression: { } returned })
                    {
                        result = Expr(returned);
                    }
                }
            }
            // A body without a result is already a C# error (CS0161); say nothing more.
            result ??= new InvalidExpr(syntax.Identifier.ValueText, null, location);
            return new BlockSource(name, returnsNet, new EquatableArray<BlockParameter>(parameters), EquatableArray.From(bindings), result, location,
                key, shared, EquatableArray.From(_sharedCalls), statements, extent);
        }

        /// <summary>
        /// A shared block's default for a parameter, read where the block is declared: a network's cached reading of its
        /// call may predate an edit of the default in the block's file.
        /// </summary>
        private static ArgValue? DefaultValue(IParameterSymbol parameter, LocationInfo location)
        {
            if (!parameter.HasExplicitDefaultValue)
            {
                return null;
            }
            ArgValue Make(ArgKind kind, long i = 0, double d = 0, string? text = null)
                => new(parameter.Name, kind, i, d, text, EquatableArray<int>.Empty, null, EquatableArray<DslExpr>.Empty, false, location);
            return parameter.ExplicitDefaultValue switch
            {
                null => Make(ArgKind.Null, text: "null"),
                bool b => Make(ArgKind.Bool, i: b ? 1 : 0),
                string str => Make(ArgKind.String, text: str),
                int v => Make(ArgKind.Int, i: v),
                long v => Make(ArgKind.Int, i: v),
                float v => Make(ArgKind.Number, d: v),
                double v => Make(ArgKind.Number, d: v),
                _ => null,
            };
        }

        /// <summary>True for the plain form: single <c>var</c> bindings of Net or Layer values, then one <c>return</c>.</summary>
        private bool IsBindingsAndReturn(BlockSyntax body)
        {
            var list = body.Statements;
            if (list.Count == 0 || list[list.Count - 1] is not ReturnStatementSyntax { Expression: not null })
            {
                return list.Count == 0;
            }
            for (int i = 0; i < list.Count - 1; i++)
            {
                if (list[i] is not LocalDeclarationStatementSyntax { IsConst: false } local
                    || local.Declaration.Variables.Count != 1
                    || local.Declaration.Variables[0].Initializer is null
                    || _model.GetDeclaredSymbol(local.Declaration.Variables[0], _cancellationToken) is not ILocalSymbol symbol
                    || !IsDslType(symbol.Type, out _))
                {
                    return false;
                }
            }
            return true;
        }

        // ---- statement bodies (issue 9): loops and conditionals over compile-time constants, run by the expander

        private EquatableArray<Statement> Statements(IEnumerable<StatementSyntax> list)
        {
            var statements = new List<Statement>();
            foreach (var statement in list)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                Statement(statement, statements);
            }
            return EquatableArray.From(statements);
        }

        private EquatableArray<Statement> Body(StatementSyntax statement)
            => statement is BlockSyntax block ? Statements(block.Statements) : Statements(new[] { statement });

        private void Statement(StatementSyntax statement, List<Statement> statements)
        {
            var at = LocationInfo.From(statement);
            switch (statement)
            {
                case BlockSyntax block:
                    statements.AddRange(Statements(block.Statements));
                    return;
                case EmptyStatementSyntax:
                    return;
                case LocalDeclarationStatementSyntax { IsConst: true }:
                    return; // the compiler folds its uses: they arrive as constants
                case LocalDeclarationStatementSyntax local when local.UsingKeyword.IsKind(SyntaxKind.None) && local.AwaitKeyword.IsKind(SyntaxKind.None):
                    foreach (var variable in local.Declaration.Variables)
                    {
                        if (variable.Initializer is { } init)
                        {
                            statements.Add(new LetStatement(variable.Identifier.ValueText, Value(init.Value), LocationInfo.From(variable)));
                        }
                    }
                    return;
                case ExpressionStatementSyntax { Expression: var expression } when Assignment(expression) is { } let:
                    statements.Add(let);
                    return;
                case ReturnStatementSyntax { Expression: { } returned }:
                    statements.Add(new ReturnStatement(Value(returned), at));
                    return;
                case ReturnStatementSyntax:
                    statements.Add(new InvalidStatement(null, at)); // 'return;' in a method returning a value: CS0126
                    return;
                case IfStatementSyntax branch:
                    string ifHeader = "if (" + OneLine(branch.Condition) + ")";
                    statements.Add(new IfStatement(Condition(branch.Condition, "The condition", ifHeader), Body(branch.Statement),
                        branch.Else is { } otherwise ? Body(otherwise.Statement) : EquatableArray<Statement>.Empty, ifHeader,
                        LocationInfo.From(Location.Create(branch.SyntaxTree, Header(branch, branch.CloseParenToken)))));
                    return;
                case ForStatementSyntax loop:
                    statements.Add(For(loop));
                    return;
                case ForEachStatementSyntax each:
                    statements.Add(ForEach(each));
                    return;
                default:
                    statements.Add(Unsupported(Construct(statement), statement, at));
                    return;
            }
        }

        private InvalidStatement Unsupported(string construct, SyntaxNode node, LocationInfo at)
            => new(DiagnosticInfo.Create(Descriptors.UnsupportedStatement, at, construct, Shorten(OneLine(node)), _method.Name), at);

        private static string Shorten(string text) => text.Length <= 60 ? text : text.Substring(0, 57) + "...";

        /// <summary>What a statement is, in words, for DSL0044.</summary>
        private static string Construct(StatementSyntax statement) => statement switch
        {
            WhileStatementSyntax => "The while loop",
            DoStatementSyntax => "The do loop",
            SwitchStatementSyntax => "The switch",
            TryStatementSyntax => "The try statement",
            ThrowStatementSyntax => "The throw",
            BreakStatementSyntax => "The break",
            ContinueStatementSyntax => "The continue",
            GotoStatementSyntax => "The goto",
            LocalFunctionStatementSyntax => "The local function",
            ExpressionStatementSyntax => "The expression statement",
            LocalDeclarationStatementSyntax => "The using declaration",
            _ => "The statement",
        };

        /// <summary>An assignment to a local of this block (<c>x = v</c>, <c>x |= layer</c>, <c>x += k</c>, <c>i++</c>), or null.</summary>
        private Statement? Assignment(ExpressionSyntax expression)
        {
            var at = LocationInfo.From(expression);
            var operation = _model.GetOperation(expression, _cancellationToken);
            ILocalSymbol? Target(IOperation? target)
                => target is ILocalReferenceOperation { Local: var local } && SymbolEqualityComparer.Default.Equals(local.ContainingSymbol, _method) ? local : null;
            switch (operation)
            {
                case ISimpleAssignmentOperation simple when Target(simple.Target) is { } local && expression is AssignmentExpressionSyntax plain:
                    return new LetStatement(local.Name, Value(plain.Right), at);
                case ICompoundAssignmentOperation compound when Target(compound.Target) is { } local && expression is AssignmentExpressionSyntax assignment:
                    if (IsDslType(local.Type, out _))
                    {
                        var reference = new RefExpr(local.Name, LocationInfo.From(assignment.Left));
                        DslExpr? combined = compound.OperatorKind switch
                        {
                            BinaryOperatorKind.Or => new PipeExpr(reference, Expr(assignment.Right), at),
                            BinaryOperatorKind.Add => new AddExpr(reference, Expr(assignment.Right), at),
                            BinaryOperatorKind.Multiply => new MulExpr(reference, Expr(assignment.Right), at),
                            _ => null,
                        };
                        return combined is null ? Unsupported("The compound assignment", expression, at) : new LetStatement(local.Name, combined, at);
                    }
                    string? op = ArithmeticSymbol(compound.OperatorKind);
                    var right = Arithmetic(compound.Value);
                    return op is null || right is null
                        ? new InvalidStatement(NotConstantControl("The value", OneLine(expression), compound.Value, expression), at)
                        : new LetStatement(local.Name, new ArithmeticExpr(op, new RefExpr(local.Name, at), right, at), at);
                case IIncrementOrDecrementOperation step when Target(step.Target) is { } local:
                    return new LetStatement(local.Name, new ArithmeticExpr(step.Kind == OperationKind.Increment ? "+" : "-",
                        new RefExpr(local.Name, at), One(at), at), at);
                default:
                    return null;
            }
        }

        private static ConstantExpr One(LocationInfo at) => new(Leaf(ArgKind.Int, 1, 0, at), at);

        private static string? ArithmeticSymbol(BinaryOperatorKind kind) => kind switch
        {
            BinaryOperatorKind.Add => "+",
            BinaryOperatorKind.Subtract => "-",
            BinaryOperatorKind.Multiply => "*",
            BinaryOperatorKind.Divide => "/",
            BinaryOperatorKind.Remainder => "%",
            _ => null,
        };

        /// <summary>A statement's value: a Net or Layer expression, or a number or bool folded at expansion.</summary>
        private DslExpr Value(ExpressionSyntax syntax)
        {
            var type = _model.GetTypeInfo(syntax, _cancellationToken).Type;
            if (type is null || IsDslType(type, out _) || type.TypeKind == TypeKind.Error)
            {
                return Expr(syntax);
            }
            var operation = _model.GetOperation(syntax, _cancellationToken);
            if (type is IArrayTypeSymbol && operation is not null && IntArray(operation) is { } ints)
            {
                var at = LocationInfo.From(syntax);
                return new ConstantExpr(Leaf(ArgKind.IntArray, 0, 0, at) with { Ints = EquatableArray.From(ints), Text = string.Join(", ", ints) }, at);
            }
            return operation is not null && Arithmetic(operation) is { } arithmetic
                ? arithmetic
                : new InvalidExpr(OneLine(syntax), NotConstantControl("The value", OneLine(syntax), operation, syntax), LocationInfo.From(syntax));
        }

        /// <summary>A condition folded at expansion, or an invalid expression carrying DSL0043.</summary>
        private DslExpr Condition(ExpressionSyntax syntax, string what, string header)
        {
            var operation = _model.GetOperation(syntax, _cancellationToken);
            return operation is not null && Arithmetic(operation) is { } condition
                ? condition
                : new InvalidExpr(OneLine(syntax), NotConstantControl(what, header, operation, syntax), LocationInfo.From(syntax));
        }

        private DiagnosticInfo NotConstantControl(string what, string header, IOperation? operation, SyntaxNode fallback)
        {
            var culprit = operation is null ? null : Culprit(operation);
            string why = culprit is null ? "it does not fold to a number or a bool"
                : $"'{OneLine(culprit.Syntax)}' is {Describe(culprit)}";
            return DiagnosticInfo.Create(Descriptors.ControlNotConstant, LocationInfo.From(culprit?.Syntax ?? operation?.Syntax ?? fallback),
                what, header, _method.Name, why);
        }

        /// <summary>The first leaf of an expression that is not a compile-time constant, a parameter or a loop variable.</summary>
        private IOperation? Culprit(IOperation operation)
        {
            if (Arithmetic(operation) is not null)
            {
                return null;
            }
            foreach (var child in operation.ChildOperations)
            {
                if (Culprit(child) is { } inner)
                {
                    return inner;
                }
            }
            return operation;
        }

        private static string Describe(IOperation operation) => operation switch
        {
            IFieldReferenceOperation { Field.IsStatic: true } => "a field that is not const",
            IFieldReferenceOperation => "an instance field",
            IPropertyReferenceOperation => "a property",
            IInvocationOperation => "a method call",
            ILocalReferenceOperation local when IsDslType(local.Local.Type, out _) => "a value computed by layers, known only at run time",
            ILocalReferenceOperation => "a local that is not a constant or a loop variable",
            IParameterReferenceOperation => "a parameter of another method",
            _ => "not a compile-time constant",
        };

        /// <summary>A statement's header, from its keyword to its closing parenthesis (which half-typed code may lack).</summary>
        private static Microsoft.CodeAnalysis.Text.TextSpan Header(StatementSyntax statement, SyntaxToken closeParen)
            => Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(statement.SpanStart, System.Math.Min(statement.Span.End, System.Math.Max(statement.SpanStart, closeParen.Span.End)));

        private Statement For(ForStatementSyntax loop)
        {
            var headerSpan = Header(loop, loop.CloseParenToken);
            var at = LocationInfo.From(Location.Create(loop.SyntaxTree, headerSpan));
            string header = Regex.Replace(loop.SyntaxTree.GetText(_cancellationToken).ToString(headerSpan), @"\s+", " ");
            if (loop.Declaration is not { Variables.Count: 1 } declaration || loop.Initializers.Count > 0 || loop.Incrementors.Count != 1
                || declaration.Variables[0].Initializer is not { } init
                || _model.GetDeclaredSymbol(declaration.Variables[0], _cancellationToken) is not ILocalSymbol { Type.SpecialType: SpecialType.System_Int32 } variable)
            {
                return Unsupported("The for loop", loop, at);
            }
            if (loop.Condition is null)
            {
                return new InvalidStatement(DiagnosticInfo.Create(Descriptors.LoopBudget, at, header, _method.Name, Expand.Expander.MaxIterations.ToString(System.Globalization.CultureInfo.InvariantCulture)), at);
            }
            var start = _model.GetOperation(init.Value, _cancellationToken) is { } startOperation && Arithmetic(startOperation) is { } s
                ? s
                : (DslExpr)new InvalidExpr(OneLine(init.Value), NotConstantControl("The start", header, _model.GetOperation(init.Value, _cancellationToken), init.Value), LocationInfo.From(init.Value));
            var condition = Condition(loop.Condition, "The condition", header);
            var incrementor = loop.Incrementors[0];
            var reference = new RefExpr(variable.Name, LocationInfo.From(incrementor));
            DslExpr? next = _model.GetOperation(incrementor, _cancellationToken) switch
            {
                IIncrementOrDecrementOperation { Target: ILocalReferenceOperation t } step when SymbolEqualityComparer.Default.Equals(t.Local, variable)
                    => new ArithmeticExpr(step.Kind == OperationKind.Increment ? "+" : "-", reference, One(reference.Location), reference.Location),
                ICompoundAssignmentOperation { Target: ILocalReferenceOperation t } compound when SymbolEqualityComparer.Default.Equals(t.Local, variable)
                    && ArithmeticSymbol(compound.OperatorKind) is { } symbol && Arithmetic(compound.Value) is { } by
                    => new ArithmeticExpr(symbol, reference, by, reference.Location),
                ISimpleAssignmentOperation { Target: ILocalReferenceOperation t } simple when SymbolEqualityComparer.Default.Equals(t.Local, variable)
                    => Arithmetic(simple.Value),
                _ => null,
            };
            if (next is null)
            {
                return new InvalidStatement(DiagnosticInfo.Create(Descriptors.UnsupportedStatement, LocationInfo.From(incrementor), "The step", OneLine(incrementor), _method.Name), at);
            }
            return new ForStatement(variable.Name, start, condition, next, Body(loop.Statement), header, at);
        }

        private Statement ForEach(ForEachStatementSyntax each)
        {
            var headerSpan = Header(each, each.CloseParenToken);
            var at = LocationInfo.From(Location.Create(each.SyntaxTree, headerSpan));
            string header = Regex.Replace(each.SyntaxTree.GetText(_cancellationToken).ToString(headerSpan), @"\s+", " ");
            if (_model.GetDeclaredSymbol(each, _cancellationToken) is not ILocalSymbol { Type.SpecialType: SpecialType.System_Int32 } variable
                || _model.GetOperation(each, _cancellationToken) is not IForEachLoopOperation operation)
            {
                return Unsupported("The foreach loop (over something other than int)", each, at);
            }
            var collection = operation.Collection;
            while (collection is IConversionOperation conversion)
            {
                collection = conversion.Operand;
            }
            var where = LocationInfo.From(each.Expression);
            DslExpr? values = collection switch
            {
                IParameterReferenceOperation p when SymbolEqualityComparer.Default.Equals(p.Parameter.ContainingSymbol, _method) => new RefExpr(p.Parameter.Name, where),
                _ when IntArray(collection) is { } ints => new ConstantExpr(Leaf(ArgKind.IntArray, 0, 0, where) with { Ints = EquatableArray.From(ints), Text = string.Join(", ", ints) }, where),
                _ => null,
            };
            return values is null
                ? new InvalidStatement(DiagnosticInfo.Create(Descriptors.ControlNotConstant, where, "The collection", header, _method.Name,
                    "a loop runs over an array of integer constants (new[] { 64, M, 128 }), an int[] parameter, or a static readonly int[] field of the block's class initialised with constants"), at)
                : new ForEachStatement(variable.Name, values, Body(each.Statement), header, at);
        }

        /// <summary>
        /// A constant integer list: an array creation or collection expression of constants, or a <c>static readonly int[]</c>
        /// field of the block's own class initialised so (read where it is declared); null otherwise.
        /// </summary>
        private List<int>? IntArray(IOperation operation, bool followField = true)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }
            IEnumerable<IOperation>? elements = operation switch
            {
                IArrayCreationOperation { Initializer: { } init } => init.ElementValues,
                IArrayInitializerOperation init => init.ElementValues,
                _ => null,
            };
            if (elements is not null)
            {
                var ints = new List<int>();
                foreach (var element in elements)
                {
                    var item = element;
                    while (!item.ConstantValue.HasValue && item is IConversionOperation inner)
                    {
                        item = inner.Operand;
                    }
                    if (item.ConstantValue is not { HasValue: true, Value: int v })
                    {
                        return null;
                    }
                    ints.Add(v);
                }
                return ints;
            }
            // The field must be the block's class's own (same class, hence re-read whenever the block is): a field
            // elsewhere could change without the block's file changing, and the network would keep the old list.
            if (followField && operation is IFieldReferenceOperation { Field: { IsStatic: true, IsReadOnly: true } field }
                && SymbolEqualityComparer.Default.Equals(field.ContainingType, _method.ContainingType)
                && field.DeclaringSyntaxReferences.Length == 1
                && field.DeclaringSyntaxReferences[0].GetSyntax(_cancellationToken) is VariableDeclaratorSyntax { Initializer: { } fieldInit } declarator
                && declarator.SyntaxTree == _model.SyntaxTree)
            {
                var initializer = _model.GetOperation(fieldInit, _cancellationToken) is IFieldInitializerOperation { Value: { } assigned }
                    ? assigned
                    : _model.GetOperation(fieldInit.Value, _cancellationToken);
                return initializer is null ? null : IntArray(initializer, followField: false);
            }
            return null;
        }

        private DslExpr Expr(ExpressionSyntax syntax)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var location = LocationInfo.From(syntax);
            switch (syntax)
            {
                case ParenthesizedExpressionSyntax p:
                    return Expr(p.Expression);
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.BitwiseOrExpression):
                    return new PipeExpr(Expr(b.Left), Expr(b.Right), location);
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.AddExpression) && !IsNumber(b.Left) && !IsNumber(b.Right):
                    return new AddExpr(Expr(b.Left), Expr(b.Right), location);
                case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.MultiplyExpression) && !IsNumber(b.Left) && !IsNumber(b.Right):
                    return new MulExpr(Expr(b.Left), Expr(b.Right), location);
                case BinaryExpressionSyntax b when ElementwiseSymbol(b) is { } symbol:
                    return new ElementwiseExpr(symbol, Operand(b.Left), Operand(b.Right), location);
                case InvocationExpressionSyntax call:
                    return Call(call, location);
                case ConditionalExpressionSyntax conditional:
                    // cond ? a : b over a compile-time condition: the expander takes one branch.
                    return new ConditionalExpr(Condition(conditional.Condition, "The condition", OneLine(conditional)),
                        Value(conditional.WhenTrue), Value(conditional.WhenFalse), location);
                case IdentifierNameSyntax or MemberAccessExpressionSyntax:
                    return Name(syntax, location);
                default:
                    return new InvalidExpr(OneLine(syntax), DiagnosticInfo.Create(Descriptors.UnsupportedSyntax, location,
                        $"'{OneLine(syntax)}' is not part of the network language: use layers, blocks, '|', '+', '-', '*', '/' and 'var' bindings"), location);
            }
        }

        // ---- tensor operations (issue 8): '-' and '/' on values, and a number on either side of + - * /.

        /// <summary>The operator of a value's <c>+ - * /</c> that is not a plain Net + Net or Net * Net, or null.</summary>
        private string? ElementwiseSymbol(BinaryExpressionSyntax b)
            => !IsNumber(b.Left) || !IsNumber(b.Right)
                ? b.Kind() switch
                {
                    SyntaxKind.AddExpression => "+",
                    SyntaxKind.SubtractExpression => "-",
                    SyntaxKind.MultiplyExpression => "*",
                    SyntaxKind.DivideExpression => "/",
                    _ => null,
                }
                : null;

        /// <summary>True when the expression is a C# number (a scalar operand of an element-wise operation), not a Net.</summary>
        private bool IsNumber(ExpressionSyntax syntax)
            => _model.GetTypeInfo(syntax, _cancellationToken).Type?.SpecialType is SpecialType.System_Double or SpecialType.System_Single
                or SpecialType.System_Int32 or SpecialType.System_Int64;

        /// <summary>
        /// An operand of an element-wise operation: a Net expression, or a number as a constant leaf or arithmetic over
        /// constants and the block's parameters (<c>Math.Sqrt(d)</c> included), folded at expansion.
        /// </summary>
        private DslExpr Operand(ExpressionSyntax syntax)
        {
            if (!IsNumber(syntax))
            {
                return Expr(syntax);
            }
            var location = LocationInfo.From(syntax);
            return _model.GetOperation(syntax, _cancellationToken) is { } operation && Arithmetic(operation) is { } arithmetic
                ? arithmetic
                : new InvalidExpr(OneLine(syntax), DiagnosticInfo.Create(Descriptors.UnsupportedSyntax, location,
                    $"'{OneLine(syntax)}' must be a compile-time number: constants, the block's parameters, + - * / and Math.Sqrt"), location);
        }

        private DslExpr Name(ExpressionSyntax syntax, LocationInfo location)
        {
            var symbol = _model.GetSymbolInfo(syntax, _cancellationToken).Symbol;
            switch (symbol)
            {
                case IPropertySymbol property when property.ContainingType.ToDisplayString() == LayersType:
                    return new LayerCallExpr(property.Name, OneLine(syntax), EquatableArray<ArgValue>.Empty, location);
                case ILocalSymbol local:
                    return new RefExpr(local.Name, location);
                case IParameterSymbol parameter:
                    return new RefExpr(parameter.Name, location);
                case null:
                    return new InvalidExpr(OneLine(syntax), null, location);
                default:
                    return new InvalidExpr(OneLine(syntax), Unknown(symbol.Name, location), location);
            }
        }

        private DslExpr Call(InvocationExpressionSyntax call, LocationInfo location)
        {
            var info = _model.GetSymbolInfo(call, _cancellationToken);
            var method = info.Symbol as IMethodSymbol
                ?? info.CandidateSymbols.OfType<IMethodSymbol>().FirstOrDefault();
            string source = OneLine(call);
            if (method is null)
            {
                return new InvalidExpr(source, null, location);
            }
            bool isCatalogue = method.ContainingType.ToDisplayString() == LayersType;
            string? key = null;
            if (!isCatalogue && method.MethodKind == MethodKind.Ordinary && IsDslType(method.ReturnType, out _))
            {
                bool own = _ownerIsNetwork && SymbolEqualityComparer.Default.Equals(method.ContainingType, _owner);
                if (own && method.IsStatic)
                {
                    key = method.Name;
                }
                else if (BlockProblem(method, own) is { } problem)
                {
                    return new InvalidExpr(source, DiagnosticInfo.Create(Descriptors.NotABlock, location, own ? method.Name : SharedName(method), problem), location);
                }
                else if (method.DeclaringSyntaxReferences.IsEmpty)
                {
                    return new InvalidExpr(source, DiagnosticInfo.Create(Descriptors.SharedBlockInReference, location, SharedName(method),
                        method.ContainingAssembly?.Name ?? "?"), location);
                }
                else
                {
                    // A shared block (issue 9): the Link step adds its body, read where it is declared.
                    key = SharedKey(method);
                    _sharedCalls.Add(key);
                }
            }
            bool isBlock = key is not null;
            if (!isCatalogue && !isBlock)
            {
                return new InvalidExpr(source, Unknown(method.Name, location), location);
            }
            if (isBlock && !HasNamedParameters(method))
            {
                return new InvalidExpr(source, null, location); // the compiler reports the block's parameter list
            }

            var operation = _model.GetOperation(call, _cancellationToken) as IInvocationOperation;
            if (operation is null || info.Symbol is null)
            {
                if (isBlock)
                {
                    // The call does not bind (wrong arity or types): keep what was written so the
                    // expander can say what the block expects and what it got.
                    var written = call.ArgumentList.Arguments
                        .Select((a, i) => new ArgValue(a.NameColon?.Name.Identifier.ValueText ?? "#" + i, ArgKind.NotConstant, 0, 0, OneLine(a.Expression),
                            EquatableArray<int>.Empty, null, EquatableArray<DslExpr>.Empty, true, LocationInfo.From(a)))
                        .ToImmutableArray();
                    return new BlockCallExpr(key!, source, new EquatableArray<ArgValue>(written), location);
                }
                return new InvalidExpr(source, null, location);
            }

            var args = operation.Arguments
                .Where(a => a.Parameter is not null)
                .Select(a => Argument(a, location))
                .ToImmutableArray();
            return isCatalogue
                ? new LayerCallExpr(method.Name, source, new EquatableArray<ArgValue>(args), location, IsDslType(method.ReturnType, out bool net) && net)
                : new BlockCallExpr(key!, source, new EquatableArray<ArgValue>(args), location);
        }

        /// <summary>Why a method returning Layer or Net cannot be a block (DSL0041), or null when it can.</summary>
        private static string? BlockProblem(IMethodSymbol method, bool own)
        {
            if (method.IsGenericMethod)
            {
                return "is generic: a block's shapes are fixed at compile time, so give it int, bool or int[] parameters instead of type parameters";
            }
            if (method.ContainingType.IsGenericType)
            {
                return $"is declared in the generic class '{method.ContainingType.ToDisplayString()}'";
            }
            if (!method.IsStatic)
            {
                return "is an instance method: a block is expanded at compile time, never called on an object, so make it static";
            }
            if (!own && !method.ContainingType.IsStatic)
            {
                return $"is declared in '{method.ContainingType.Name}', which is not a static class: move blocks shared by several networks into a static class";
            }
            return null;
        }

        private ArgValue Argument(IArgumentOperation argument, LocationInfo callLocation)
        {
            string name = argument.Parameter!.Name;
            bool isExplicit = argument.ArgumentKind == ArgumentKind.Explicit;
            var location = isExplicit || argument.ArgumentKind == ArgumentKind.ParamArray && argument.Syntax is not InvocationExpressionSyntax
                ? LocationInfo.From(argument.Syntax)
                : callLocation;
            var value = argument.Value;
            string text = argument.Syntax is ArgumentSyntax a ? OneLine(a.Expression) : OneLine(argument.Syntax);

            ArgValue Make(ArgKind kind, long i = 0, double d = 0, string? s = null, EquatableArray<int> ints = default, DslExpr? e = null, EquatableArray<DslExpr> list = default)
                => new(name, kind, i, d, s, ints, e, list, isExplicit, location);

            var paramType = ParameterType(argument.Parameter.Type);
            // Only an argument the user wrote holds an expression: an omitted one (mask: null by default) can carry the
            // syntax of an enclosing argument (a call nested in another's arguments), and reading it again recursed forever.
            if (paramType is ParamType.Net or ParamType.Layer && isExplicit && argument.Syntax is ArgumentSyntax netArg)
            {
                return Make(ArgKind.Expression, s: text, e: Expr(netArg.Expression));
            }
            if (argument.ArgumentKind == ArgumentKind.ParamArray
                && argument.Parameter.Type is IArrayTypeSymbol { ElementType: var elementType } && ParameterType(elementType) is ParamType.Layer or ParamType.Net)
            {
                var items = value is IArrayCreationOperation { Initializer: { } layers }
                    ? layers.ElementValues.Select(v => v.Syntax is ExpressionSyntax es ? Expr(es) : new InvalidExpr(OneLine(v.Syntax), null, LocationInfo.From(v.Syntax)))
                    : Enumerable.Empty<DslExpr>();
                return Make(ArgKind.ExpressionList, s: text, list: EquatableArray.From(items));
            }
            if (argument.ArgumentKind == ArgumentKind.ParamArray)
            {
                if (value is IArrayCreationOperation { Initializer: { } dimInit }
                    && argument.Parameter.Type is IArrayTypeSymbol { ElementType: var dimType } && dimType.ToDisplayString() == DimType)
                {
                    // Dim elements arrive as user-defined conversions of an int or a string constant.
                    var sizes = new List<int>();
                    var symbols = new List<string>();
                    // An element may be arithmetic over the block's parameters (View(q, -1, heads, d / heads)): each element
                    // then has an expression (a constant leaf for the others), folded at expansion.
                    var sizeExprs = new List<DslExpr?>();
                    foreach (var element in dimInit.ElementValues)
                    {
                        var operand = element;
                        while (operand is IConversionOperation conversion && !operand.ConstantValue.HasValue)
                        {
                            operand = conversion.Operand;
                        }
                        switch (operand.ConstantValue)
                        {
                            case { HasValue: true, Value: int v }:
                                sizes.Add(v);
                                symbols.Add("");
                                sizeExprs.Add(null);
                                break;
                            case { HasValue: true, Value: string symbol }:
                                sizes.Add(0);
                                symbols.Add(symbol);
                                sizeExprs.Add(null);
                                break;
                            default:
                                if (Arithmetic(operand) is not { } sizeExpr)
                                {
                                    return Make(ArgKind.NotConstant, s: OneLine(element.Syntax));
                                }
                                sizes.Add(0);
                                symbols.Add("");
                                sizeExprs.Add(sizeExpr);
                                break;
                        }
                    }
                    var dimArray = Make(ArgKind.DimArray, s: text, ints: EquatableArray.From(sizes)) with { Symbols = EquatableArray.From(symbols) };
                    return sizeExprs.All(e => e is null) ? dimArray : dimArray with
                    {
                        Expressions = EquatableArray.From(sizeExprs.Select((e, k) => e ?? new ConstantExpr(Leaf(ArgKind.Int, sizes[k], 0, location), location))),
                    };
                }
                if (value is IArrayCreationOperation { Initializer: { } init })
                {
                    var ints = new List<int>();
                    foreach (var element in init.ElementValues)
                    {
                        if (element.ConstantValue is { HasValue: true, Value: int v })
                        {
                            ints.Add(v);
                        }
                        else
                        {
                            return Make(ArgKind.NotConstant, s: OneLine(element.Syntax));
                        }
                    }
                    return Make(ArgKind.IntArray, s: string.Join(", ", ints), ints: EquatableArray.From(ints));
                }
                return Make(ArgKind.NotConstant, s: text);
            }
            if (argument.ArgumentKind == ArgumentKind.DefaultValue && argument.Parameter.HasExplicitDefaultValue && argument.Parameter.ExplicitDefaultValue is null)
            {
                return Make(ArgKind.Null, s: "null");
            }
            var constant = value.ConstantValue;
            var unwrapped = value;
            while (!constant.HasValue && unwrapped is IConversionOperation inner)
            {
                unwrapped = inner.Operand;
                constant = unwrapped.ConstantValue;
            }
            if (constant.HasValue)
            {
                return constant.Value switch
                {
                    null => Make(ArgKind.Null, s: "null"),
                    bool b => Make(ArgKind.Bool, i: b ? 1 : 0),
                    string str => Make(ArgKind.String, s: str),
                    int v => Make(ArgKind.Int, i: v),
                    long v => Make(ArgKind.Int, i: v),
                    short v => Make(ArgKind.Int, i: v),
                    byte v => Make(ArgKind.Int, i: v),
                    float v => Make(ArgKind.Number, d: v),
                    double v => Make(ArgKind.Number, d: v),
                    var other => Make(ArgKind.NotConstant, s: other.ToString()),
                };
            }
            while (value is IConversionOperation conversion)
            {
                value = conversion.Operand;
            }
            if (value is ITupleOperation tuple)
            {
                // A (height, width) pair given to a Size2 parameter (kernel: (1, 7)): constant integers only.
                var pair = new List<int>();
                foreach (var element in tuple.Elements)
                {
                    var item = element;
                    var itemConstant = item.ConstantValue;
                    while (!itemConstant.HasValue && item is IConversionOperation itemConversion)
                    {
                        item = itemConversion.Operand;
                        itemConstant = item.ConstantValue;
                    }
                    if (itemConstant is not { HasValue: true, Value: int v })
                    {
                        return Make(ArgKind.NotConstant, s: text);
                    }
                    pair.Add(v);
                }
                return Make(ArgKind.IntArray, s: "(" + string.Join(", ", pair) + ")", ints: EquatableArray.From(pair));
            }
            if (paramType == ParamType.IntArray && IntArray(value) is { } list)
            {
                return Make(ArgKind.IntArray, s: string.Join(", ", list), ints: EquatableArray.From(list));
            }
            if (value is IParameterReferenceOperation p && SymbolEqualityComparer.Default.Equals(p.Parameter.ContainingSymbol, _method))
            {
                return Make(ArgKind.ParameterRef, s: p.Parameter.Name);
            }
            if (value is ILocalReferenceOperation l && SymbolEqualityComparer.Default.Equals(l.Local.ContainingSymbol, _method) && !IsDslType(l.Local.Type, out _))
            {
                // A loop variable or a local computed from constants: its value at expansion.
                return Make(ArgKind.ParameterRef, s: l.Local.Name);
            }
            if (value is IBinaryOperation or IUnaryOperation or IConditionalOperation && Arithmetic(value) is { } arithmetic)
            {
                return Make(ArgKind.Arithmetic, s: text, e: arithmetic);
            }
            return Make(ArgKind.NotConstant, s: text);
        }

        /// <summary>Arithmetic over constants and this block's parameters, or null when a leaf is anything else.</summary>
        private DslExpr? Arithmetic(IOperation operation)
        {
            var location = LocationInfo.From(operation.Syntax);
            if (operation.ConstantValue is { HasValue: true, Value: var v })
            {
                return v switch
                {
                    int i => new ConstantExpr(Leaf(ArgKind.Int, i, 0, location), location),
                    long l => new ConstantExpr(Leaf(ArgKind.Int, l, 0, location), location),
                    float f => new ConstantExpr(Leaf(ArgKind.Number, 0, f, location), location),
                    double d => new ConstantExpr(Leaf(ArgKind.Number, 0, d, location), location),
                    // A string leaf: a block names its layers from a parameter (name: prefix + ".q").
                    string str => new ConstantExpr(Leaf(ArgKind.String, 0, 0, location) with { Text = str }, location),
                    bool b => new ConstantExpr(Leaf(ArgKind.Bool, b ? 1 : 0, 0, location), location),
                    _ => null,
                };
            }
            switch (operation)
            {
                case IConversionOperation conversion:
                    return Arithmetic(conversion.Operand);
                case IParenthesizedOperation parenthesized:
                    return Arithmetic(parenthesized.Operand);
                case IParameterReferenceOperation p when SymbolEqualityComparer.Default.Equals(p.Parameter.ContainingSymbol, _method):
                    return new RefExpr(p.Parameter.Name, location);
                case ILocalReferenceOperation l when SymbolEqualityComparer.Default.Equals(l.Local.ContainingSymbol, _method) && !IsDslType(l.Local.Type, out _):
                    return new RefExpr(l.Local.Name, location);
                case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                    return Arithmetic(not.Operand) is { } negated ? new ArithmeticExpr("!", null, negated, location) : null;
                case IConditionalOperation { WhenFalse: { } whenFalse } conditional:
                    var test = Arithmetic(conditional.Condition);
                    var whenTrue = Arithmetic(conditional.WhenTrue);
                    var otherwise = Arithmetic(whenFalse);
                    return test is null || whenTrue is null || otherwise is null ? null : new ConditionalExpr(test, whenTrue, otherwise, location);
                case IInvocationOperation { TargetMethod: { Name: "Sqrt", ContainingType: var math } } sqrt
                    when math.ToDisplayString() == "System.Math" && sqrt.Arguments.Length == 1:
                    return Arithmetic(sqrt.Arguments[0].Value) is { } root ? new ArithmeticExpr("sqrt", null, root, location) : null;
                case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus } negate:
                    return Arithmetic(negate.Operand) is { } operand ? new ArithmeticExpr("-", null, operand, location) : null;
                case IBinaryOperation binary:
                    string? op = binary.OperatorKind switch
                    {
                        BinaryOperatorKind.Add => "+",
                        BinaryOperatorKind.Subtract => "-",
                        BinaryOperatorKind.Multiply => "*",
                        BinaryOperatorKind.Divide => "/",
                        BinaryOperatorKind.Remainder => "%",
                        BinaryOperatorKind.LessThan => "<",
                        BinaryOperatorKind.LessThanOrEqual => "<=",
                        BinaryOperatorKind.GreaterThan => ">",
                        BinaryOperatorKind.GreaterThanOrEqual => ">=",
                        BinaryOperatorKind.Equals => "==",
                        BinaryOperatorKind.NotEquals => "!=",
                        BinaryOperatorKind.ConditionalAnd => "&&",
                        BinaryOperatorKind.ConditionalOr => "||",
                        _ => null,
                    };
                    var left = Arithmetic(binary.LeftOperand);
                    var right = Arithmetic(binary.RightOperand);
                    return op is null || left is null || right is null ? null : new ArithmeticExpr(op, left, right, location);
                default:
                    return null;
            }
        }

        private static ArgValue Leaf(ArgKind kind, long i, double d, LocationInfo location)
            => new("", kind, i, d, null, EquatableArray<int>.Empty, null, EquatableArray<DslExpr>.Empty, true, location);

        private DiagnosticInfo Unknown(string name, LocationInfo location)
            => DiagnosticInfo.Create(Descriptors.UnknownLayer, location, name, _owner.Name);
    }
}
