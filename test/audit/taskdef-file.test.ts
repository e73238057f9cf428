import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTaskDefinitionFile, parseTaskDefinitionFile, positionInFile, TaskDefinitionFileError } from '../../functions/audit/taskdef-file.ts';
import { checkoutRegister, fixturePath } from './support.ts';

const problemsOf = (value: unknown, file = 'td.json'): string[] => problemsOfText(JSON.stringify(value, null, 2), file);

function problemsOfText(text: string, file = 'td.json'): string[] {
  try {
    parseTaskDefinitionFile(text, file);
  } catch (error) {
    if (error instanceof TaskDefinitionFileError) return error.problems;
    throw error;
  }
  throw new Error('expected the file to be rejected');
}

describe('loading a task definition file', () => {
  it('reads register-task-definition input as is', async () => {
    const loaded = await loadTaskDefinitionFile(fixturePath('checkout-web.register.json'));
    expect(loaded.pathPrefix).toBe('');
    expect(loaded.taskDefinition).toEqual(checkoutRegister());
  });

  it('unwraps describe-task-definition output and locates paths inside the wrapper', async () => {
    const loaded = await loadTaskDefinitionFile(fixturePath('orders-worker.describe.json'));
    expect(loaded.pathPrefix).toBe('taskDefinition.');
    expect(loaded.taskDefinition).toMatchObject({ family: 'orders-worker', revision: 7 });
    expect(positionInFile(loaded, 'containerDefinitions[0].stopTimeout')).toEqual({ line: 26, column: 32 });
    expect(positionInFile(loaded, '')).toEqual({ line: 2, column: 23 });
  });

  it('names the JSON path, the line and what was expected for a health check command written as a string', async () => {
    const error = await loadTaskDefinitionFile(fixturePath('broken-health-check.json')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskDefinitionFileError);
    const file = fixturePath('broken-health-check.json');
    expect((error as TaskDefinitionFileError).problems).toEqual([
      `${file}:21:20: containerDefinitions[1].healthCheck.command: expected an array of strings such as ["CMD-SHELL", "curl -f http://127.0.0.1/ || exit 1"], got a string`,
    ]);
  });

  it('gives line and column of a JSON syntax error', async () => {
    const error = await loadTaskDefinitionFile(fixturePath('trailing-comma.json')).catch((e: unknown) => e);
    expect((error as TaskDefinitionFileError).problems).toEqual([
      `${fixturePath('trailing-comma.json')}:7:5: invalid JSON: trailing comma before '}' is not allowed in JSON`,
    ]);
  });

  it('says when the file cannot be read', async () => {
    const error = await loadTaskDefinitionFile(fixturePath('no-such-file.json')).catch((e: unknown) => e);
    expect((error as TaskDefinitionFileError).problems).toEqual([`${fixturePath('no-such-file.json')}: cannot read: no such file`]);
  });

  it('lists every problem of a file at once, with the line of each', () => {
    const td = checkoutRegister() as unknown as Record<string, any>;
    td.cpu = 512;
    td.containerDefinitions[0].environment[0].value = 8080;
    td.containerDefinitions[0].dependsOn[0].condition = 'READY';
    delete td.containerDefinitions[1].image;
    const problems = problemsOf(td);
    expect(problems).toEqual([
      expect.stringMatching(
        /^td\.json:\d+:\d+: containerDefinitions\[0\]\.environment\[0\]\.value: expected a string \(quote numbers and booleans: "8080"\), got a number$/,
      ),
      expect.stringMatching(
        /^td\.json:\d+:\d+: containerDefinitions\[0\]\.dependsOn\[0\]\.condition: expected one of START, COMPLETE, SUCCESS, HEALTHY, got "READY"$/,
      ),
      expect.stringMatching(/^td\.json:\d+:\d+: containerDefinitions\[1\]\.image: required: expected an image reference$/),
      expect.stringMatching(/^td\.json:\d+:\d+: cpu: expected a string such as "256" or "1 vCPU", got a number$/),
    ]);
  });

  it('points a missing field at its parent object', () => {
    const text = '{\n  "family": "web",\n  "containerDefinitions": [\n    {\n      "image": "nginx:1.27"\n    }\n  ]\n}';
    expect(problemsOfText(text)).toEqual(['td.json:4:5: containerDefinitions[0].name: required: expected a container name']);
  });

  it('prefixes paths with taskDefinition. in describe-task-definition output', () => {
    const wrapped = JSON.parse(readFileSync(fixturePath('orders-worker.describe.json'), 'utf8'));
    wrapped.taskDefinition.containerDefinitions[0].stopTimeout = '20s';
    expect(problemsOf(wrapped)).toEqual([
      expect.stringMatching(/^td\.json:\d+:\d+: taskDefinition\.containerDefinitions\[0\]\.stopTimeout: expected a number of seconds, got a string$/),
    ]);
  });

  it.each([
    [{ containerDefinitions: [{ name: 'a', image: 'b' }] }, 'family: required: expected a family name'],
    [{ family: 'web app', containerDefinitions: [{ name: 'a', image: 'b' }] }, 'family: expected 1-255 letters, digits, "_" or "-"'],
    [{ family: 'web', containerDefinitions: [] }, 'containerDefinitions: expected at least one container definition'],
    [
      { family: 'web', containerDefinitions: [{ name: 'a', image: 'b', healthCheck: { command: [] } }] },
      'containerDefinitions[0].healthCheck.command: expected at least "CMD" or "CMD-SHELL" and a command',
    ],
    [
      { family: 'web', containerDefinitions: [{ name: 'a', image: 'b', portMappings: [{ containerPort: 70000 }] }] },
      'containerDefinitions[0].portMappings[0].containerPort: expected a port number 0-65535',
    ],
    [
      {
        family: 'web',
        containerDefinitions: [
          { name: 'a', image: 'b' },
          { name: 'a', image: 'c' },
        ],
      },
      'containerDefinitions[1].name: duplicate container name "a" (also containerDefinitions[0])',
    ],
    [
      { family: 'web', containerDefinitions: [{ name: 'a', image: 'b', dependsOn: [{ containerName: 'envoy', condition: 'START' }] }] },
      'containerDefinitions[0].dependsOn[0].containerName: no container named "envoy" in this task definition',
    ],
    [
      { family: 'web', networkMode: 'awsVpc', containerDefinitions: [{ name: 'a', image: 'b' }] },
      'networkMode: expected one of bridge, host, awsvpc, none, got "awsVpc"',
    ],
  ])('rejects %j: %s', (value, message) => {
    expect(problemsOf(value)).toEqual([expect.stringContaining(`: ${message}`)]);
  });

  it('recognises a bare containerDefinitions array and CloudFormation properties', () => {
    expect(problemsOf([{ name: 'app', image: 'nginx' }])[0]).toContain("a bare containerDefinitions list, as in Terraform's container_definitions?");
    expect(problemsOf({ Family: 'web', ContainerDefinitions: [] })[0]).toContain('"ContainerDefinitions" is CloudFormation\'s spelling');
  });
});
