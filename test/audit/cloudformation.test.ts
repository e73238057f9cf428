/**
 * CloudFormation templates as audit input: what the resolver decides offline
 * and what it leaves open, the PascalCase-to-API conversion, and positions.
 */
import { describe, expect, it } from 'vitest';
import { auditInputFromTemplate, isCloudFormationTemplate } from '../../functions/audit/cloudformation.ts';
import { parseJsonWithPositions } from '../../functions/audit/json-source.ts';
import { parseYamlWithPositions } from '../../functions/audit/yaml-source.ts';

const fromYaml = (text: string) => {
  const { value, positions } = parseYamlWithPositions(text);
  return auditInputFromTemplate(value as Record<string, unknown>, positions);
};
const fromJson = (template: unknown) => {
  const { value, positions } = parseJsonWithPositions(JSON.stringify(template, null, 2));
  return auditInputFromTemplate(value as Record<string, unknown>, positions);
};

const container = (extra: Record<string, unknown> = {}) => ({ Name: 'app', Image: 'nginx:1.27', ...extra });
const taskDefinition = (props: Record<string, unknown> = {}) => ({
  Type: 'AWS::ECS::TaskDefinition',
  Properties: { RequiresCompatibilities: ['FARGATE'], Cpu: '256', Memory: '512', NetworkMode: 'awsvpc', ContainerDefinitions: [container()], ...props },
});

describe('intrinsic functions', () => {
  it('resolves Sub with parameter defaults, pseudo parameters, GetAtt in ${A.B} and the ${!Literal} escape', () => {
    const t = fromJson({
      Parameters: { Tag: { Type: 'String', Default: '2.1' }, Repo: { Type: 'String' } },
      Resources: {
        Td: taskDefinition({
          ContainerDefinitions: [
            container({
              Image: { 'Fn::Sub': '${Repo}:${Tag}' },
              Command: [{ 'Fn::Sub': ['echo ${!HOME} ${Where} ${AWS::Region}', { Where: { Ref: 'Tag' } }] }],
              Environment: [{ Name: 'TG', Value: { 'Fn::Sub': '${Tg.TargetGroupFullName}' } }],
            }),
          ],
        }),
        Tg: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: { Port: 80 } },
      },
    });
    const c = t.input.taskDefinitions[0]!.containerDefinitions![0]!;
    // A String parameter without Default stays a visible placeholder: it is only text in an image name.
    expect(c.image).toBe('${Repo}:2.1');
    expect(c.command).toEqual(['echo ${HOME} 2.1 ${AWS::Region}']);
    expect(c.environment).toEqual([{ name: 'TG', value: '${Tg.TargetGroupFullName}' }]);
    expect(t.notes).toEqual([]);
  });

  it('drops AWS::NoValue silently, as CloudFormation does, and notes what only a deployment decides', () => {
    const t = fromJson({
      Parameters: { Grace: { Type: 'Number' } },
      Conditions: { IsProd: { 'Fn::Equals': ['a', 'b'] } },
      Resources: {
        Td: taskDefinition({ ContainerDefinitions: [container({ StopTimeout: { 'Fn::If': ['IsProd', 10, { Ref: 'AWS::NoValue' }] } })] }),
        Svc: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: { Ref: 'Td' },
            HealthCheckGracePeriodSeconds: { Ref: 'Grace' },
            DesiredCount: { 'Fn::ImportValue': 'shared-desired' },
            PlatformVersion: { Ref: 'AWS::NoValue' },
          },
        },
      },
    });
    expect(t.input.taskDefinitions[0]!.containerDefinitions![0]!.stopTimeout).toBeUndefined();
    const s = t.input.services![0]!;
    expect(s.healthCheckGracePeriodSeconds).toBeUndefined();
    // An unknown DesiredCount is not guessed; the default of 1 applies only when the template leaves it out.
    expect(s.desiredCount).toBeUndefined();
    expect(fromJson({ Resources: { Svc: { Type: 'AWS::ECS::Service', Properties: {} } } }).input.services![0]!.desiredCount).toBe(1);
    expect(s.platformVersion).toBeUndefined();
    expect(t.notes.map((n) => n.path)).toEqual([
      'Resources.Td.Properties.ContainerDefinitions[0].StopTimeout',
      'Resources.Svc.Properties.HealthCheckGracePeriodSeconds',
      'Resources.Svc.Properties.DesiredCount',
    ]);
    expect(t.notes[1]!.message).toBe('parameter Grace has no Default: cannot be resolved without deploying, audited as if unset');
  });

  it('takes Fn::If when both branches agree, and Select, FindInMap and Join over known values', () => {
    const t = fromJson({
      Mappings: { Env: { prod: { Count: 4 } } },
      Resources: {
        Td: taskDefinition({ ContainerDefinitions: [container({ Image: { 'Fn::Join': ['', ['nginx', ':', { 'Fn::Select': [1, ['1.25', '1.27']] }]] } })] }),
        Svc: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: { Ref: 'Td' },
            DesiredCount: { 'Fn::FindInMap': ['Env', 'prod', 'Count'] },
            LaunchType: { 'Fn::If': ['C', 'FARGATE', 'FARGATE'] },
          },
        },
      },
    });
    expect(t.input.taskDefinitions[0]!.containerDefinitions![0]!.image).toBe('nginx:1.27');
    expect(t.input.services![0]).toMatchObject({ desiredCount: 4, launchType: 'FARGATE', taskDefinition: t.input.taskDefinitions[0]!.taskDefinitionArn });
  });

  it('reads the YAML short forms, the sequence form of !GetAtt and aliases', () => {
    const t = fromYaml(
      [
        'Resources:',
        '  Tg:',
        '    Type: AWS::ElasticLoadBalancingV2::TargetGroup',
        '    Properties: &tg { Port: 80, HealthCheckIntervalSeconds: "5", HealthyThresholdCount: 2 }',
        '  Tg2:',
        '    Type: AWS::ElasticLoadBalancingV2::TargetGroup',
        '    Properties: *tg',
        '  Svc:',
        '    Type: AWS::ECS::Service',
        '    Properties:',
        '      LoadBalancers:',
        '        - TargetGroupArn: !GetAtt [Tg, TargetGroupArn]',
        '        - TargetGroupArn: !Ref Tg2',
      ].join('\n'),
    );
    expect(t.input.targetGroups!.map((g) => [g.targetGroup.TargetGroupArn, g.targetGroup.HealthCheckIntervalSeconds])).toEqual([
      ['targetGroup:Tg', 5],
      ['targetGroup:Tg2', 5],
    ]);
    expect(t.input.services![0]!.loadBalancers!.map((lb) => lb.targetGroupArn)).toEqual(['targetGroup:Tg', 'targetGroup:Tg2']);
  });
});

describe('conversion to the API shapes', () => {
  it('renames properties but not the keys of free-form maps, and types what CloudFormation passes as text', () => {
    const t = fromJson({
      Resources: {
        Td: taskDefinition({
          Cpu: 256,
          Volumes: [{ Name: 'data', EFSVolumeConfiguration: { FilesystemId: 'fs-1' } }],
          ContainerDefinitions: [
            container({
              Essential: 'false',
              Memory: '256',
              DockerLabels: { 'com.example.Team': 'payments' },
              LogConfiguration: { LogDriver: 'awsfirelens', Options: { Name: 'cloudwatch_logs', Region: 'eu-west-1' } },
              HealthCheck: { Command: ['CMD', '/bin/health'], Interval: '10' },
              PortMappings: [{ ContainerPort: '8080' }],
            }),
          ],
        }),
      },
    });
    const td = t.input.taskDefinitions[0]!;
    expect(td.cpu).toBe('256');
    expect(td.volumes).toEqual([{ name: 'data', efsVolumeConfiguration: { filesystemId: 'fs-1' } }]);
    expect(td.containerDefinitions![0]).toMatchObject({
      essential: false,
      memory: 256,
      dockerLabels: { 'com.example.Team': 'payments' },
      logConfiguration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch_logs', Region: 'eu-west-1' } },
      healthCheck: { command: ['CMD', '/bin/health'], interval: 10 },
      portMappings: [{ containerPort: 8080 }],
    });
    expect(td.family).toBe('Td');
  });

  it('maps each task definition path back to its line in the template', () => {
    const t = fromYaml(
      [
        'Resources:',
        '  Td:',
        '    Type: AWS::ECS::TaskDefinition',
        '    Properties:',
        '      ContainerDefinitions:',
        '        - Name: app',
        '          Image: nginx:1.27',
        '          HealthCheck:',
        '            Command: [CMD-SHELL, curl -f http://localhost/]',
      ].join('\n'),
    );
    expect(t.taskDefinitionPositions[0]!.get('containerDefinitions[0].healthCheck.command')).toEqual({ line: 9, column: 22 });
    expect(t.taskDefinitionPositions[0]!.get('')).toEqual({ line: 3, column: 5 });
  });

  it('reports a property of the wrong type at its template path', () => {
    const t = fromJson({ Resources: { Td: taskDefinition({ ContainerDefinitions: [container({ PortMappings: [{ ContainerPort: 'http' }] })] }) } });
    expect(t.input.taskDefinitions).toEqual([]);
    expect(t.problems).toEqual([
      { path: 'Resources.Td.Properties.ContainerDefinitions[0].PortMappings[0].ContainerPort', message: 'expected a port number, got a string' },
    ]);
  });
});

describe('services and target groups with values the rules cannot read', () => {
  it('names the property and leaves the resource out', () => {
    const t = fromJson({
      Resources: {
        Svc: { Type: 'AWS::ECS::Service', Properties: { DesiredCount: 'three', DeploymentConfiguration: { MaximumPercent: '150%' } } },
        Tg: {
          Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
          Properties: { HealthCheckIntervalSeconds: 'fast', TargetGroupAttributes: [{ Key: 'deregistration_delay.timeout_seconds' }] },
        },
      },
    });
    expect(t.input.services).toEqual([]);
    expect(t.input.targetGroups).toEqual([]);
    expect(t.problems).toEqual([
      { path: 'Resources.Svc.Properties.DesiredCount', message: 'expected an integer, got a string' },
      { path: 'Resources.Svc.Properties.DeploymentConfiguration.MaximumPercent', message: 'expected an integer, got a string' },
      { path: 'Resources.Tg.Properties.HealthCheckIntervalSeconds', message: 'expected an integer, got a string' },
      { path: 'Resources.Tg.Properties.TargetGroupAttributes[0].Value', message: 'required: expected a string' },
    ]);
  });
});

describe('Metadata suppressions', () => {
  it('apply to the resource and, for a task definition, to each of its containers', () => {
    const t = fromJson({
      Resources: {
        Td: {
          ...taskDefinition({ ContainerDefinitions: [container(), container({ Name: 'log-router' })] }),
          Metadata: { 'ecs-caretaker': { ignore: ['stop-timeout-long', { rule: 'localhost-ipv6-ambiguity', reason: 'curl only' }] } },
        },
      },
    });
    const both = new Set(['stop-timeout-long', 'localhost-ipv6-ambiguity']);
    expect(t.ignored).toEqual(
      new Map([
        ['taskDefinition:Td', both],
        ['taskDefinition:Td#container:app', both],
        ['taskDefinition:Td#container:log-router', both],
      ]),
    );
  });
});

describe('recognising a template', () => {
  it.each([
    [{ AWSTemplateFormatVersion: '2010-09-09', Resources: {} }, true],
    [{ Resources: { X: { Type: 'AWS::ECS::Service' } } }, true],
    [{ family: 'web', containerDefinitions: [] }, false],
    [{ Resources: 'none' }, false],
  ])('%j: %s', (value, expected) => {
    expect(isCloudFormationTemplate(value)).toBe(expected);
  });
});
